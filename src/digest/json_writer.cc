#include "digest/json_writer.h"

#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace dbrunbook::digest {

void JsonWriter::Newline(std::size_t depth) {
  out_ += '\n';
  out_.append(2 * depth, ' ');
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (stack_.empty()) return;  // the document's one value
  if (stack_.back()) out_ += ',';
  stack_.back() = true;
  Newline(stack_.size());
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_ += '{';
  stack_.push_back(false);
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_ += '[';
  stack_.push_back(false);
}

void JsonWriter::EndObject() { Close('}'); }

void JsonWriter::EndArray() { Close(']'); }

void JsonWriter::Close(char bracket) {
  assert(!stack_.empty() && !after_key_);
  const bool members = stack_.back();
  stack_.pop_back();
  if (members) Newline(stack_.size());
  out_ += bracket;
}

void JsonWriter::Key(std::string_view key) {
  assert(!stack_.empty() && !after_key_);
  if (stack_.back()) out_ += ',';
  stack_.back() = true;
  Newline(stack_.size());
  Quoted(key);
  out_ += ": ";
  after_key_ = true;
}

void JsonWriter::Quoted(std::string_view s) {
  // nlohmann's escapes (ensure_ascii off): \" \\ \b \f \n \r \t, other bytes below 0x20 as
  // \u00xx in lower-case hex; everything else, UTF-8 included, as it is.
  static constexpr char kHex[] = "0123456789abcdef";
  out_ += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out_.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\b':
        out_ += "\\b";
        break;
      case '\f':
        out_ += "\\f";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        out_ += "\\u00";
        out_ += kHex[c >> 4];
        out_ += kHex[c & 0xF];
    }
  }
  out_.append(s.data() + run, s.size() - run);
  out_ += '"';
}

void JsonWriter::String(std::string_view value) {
  BeforeValue();
  Quoted(value);
}

void JsonWriter::Double(double value) {
  BeforeValue();
  if (!std::isfinite(value)) {
    out_ += "null";
    return;
  }
  // nlohmann's serializer writes doubles with this function (dump_float), into a 64-byte
  // buffer: the same digits, exponent form and ".0" of integral values.
  std::array<char, 64> buf{};
  const char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), value);
  out_.append(buf.data(), static_cast<std::size_t>(end - buf.data()));
}

void JsonWriter::Unsigned(std::uint64_t value) {
  BeforeValue();
  std::array<char, 24> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  out_.append(buf.data(), static_cast<std::size_t>(r.ptr - buf.data()));
}

void JsonWriter::Signed(std::int64_t value) {
  BeforeValue();
  std::array<char, 24> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  out_.append(buf.data(), static_cast<std::size_t>(r.ptr - buf.data()));
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
}

void JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
}

}  // namespace dbrunbook::digest
