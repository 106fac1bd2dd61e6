// JsonWriter: JSON written as it is produced, into a std::string, byte for byte as
// nlohmann::json's dump(2) writes the same document (two-space indent, ": " after keys,
// "{}" / "[]" when empty, strings escaped as nlohmann escapes them, doubles through nlohmann's
// own to_chars (its Grisu2 digits, exponent form and ".0"), non-finite doubles as null). It does
// not sort keys: a caller that wants dump()'s order (std::map's) writes keys in that order.
//
// For reports of thousands of classes: building a nlohmann::json tree and dumping it costs
// about as much as 5 % of digesting the log (a node per value, a std::map per object).
//
// Strings must be valid UTF-8 (core::ToValidUtf8), as nlohmann::json's dump() requires; they
// are not checked again here. Misuse (a value where a key is due, an unbalanced End) is a
// programming error, caught by assertions in debug builds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace dbrunbook::digest {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // The next member's key; its value follows with one of the value calls or a Begin.
  void Key(std::string_view key);

  void String(std::string_view value);
  void Double(double value);
  void Unsigned(std::uint64_t value);
  void Signed(std::int64_t value);
  void Bool(bool value);
  void Null();

  // Key() and a value in one call.
  template <typename T>
  void Member(std::string_view key, const T& value) {
    Key(key);
    Value(value);
  }

  // The indentation depth is back at zero (every Begin has its End).
  bool Complete() const { return stack_.empty() && !after_key_; }

 private:
  void Value(std::string_view v) { String(v); }
  void Value(const char* v) { String(v); }  // (not to bool)
  void Value(double v) { Double(v); }
  void Value(bool v) { Bool(v); }
  void Value(std::nullptr_t) { Null(); }
  template <typename I>
  requires std::is_integral_v<I>
  void Value(I v) {
    if constexpr (std::is_signed_v<I>)
      Signed(v);
    else
      Unsigned(v);
  }

  void BeforeValue();
  void Close(char bracket);  // the open container's end
  void Newline(std::size_t depth);
  void Quoted(std::string_view s);

  std::string& out_;
  std::vector<bool> stack_;  // per open container: has it a member yet
  bool after_key_ = false;
};

}  // namespace dbrunbook::digest
