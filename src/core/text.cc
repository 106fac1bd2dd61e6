#include "core/text.h"

#include <fmt/format.h>

#include <cstdint>

namespace dbrunbook::core {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Decodes one UTF-8 character at `text[pos]`. Returns its length in bytes (0 for an invalid
// sequence) and sets `cp`.
size_t Decode(std::string_view text, size_t pos, char32_t& cp) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  char32_t min = 0;
  if (lead < 0x80) {
    cp = lead;
    return 1;
  }
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1F;
    min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0F;
    min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (pos + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i) & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
  return length;
}

bool IsZeroWidth(char32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
         (cp >= 0xFE20 && cp <= 0xFE2F) || cp == 0xFEFF;
}

// East Asian Wide and Fullwidth ranges (Unicode UAX #11) and emoji presentation blocks.
bool IsWide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
         (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
         (cp >= 0x1F680 && cp <= 0x1F6FF) || (cp >= 0x1F900 && cp <= 0x1F9FF) ||
         (cp >= 0x1FA70 && cp <= 0x1FAFF) || (cp >= 0x20000 && cp <= 0x3FFFD) ||
         // Emoji-presentation symbols below the SMP (check marks, crosses, stars).
         cp == 0x2705 || cp == 0x274C || cp == 0x274E || (cp >= 0x2753 && cp <= 0x2755) ||
         cp == 0x2757 || cp == 0x2B50 || cp == 0x2B55 || (cp >= 0x231A && cp <= 0x231B);
}

size_t Columns(char32_t cp) {
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || IsZeroWidth(cp)) return 0;
  return IsWide(cp) ? 2 : 1;
}

// Calls `emit(bytes, cp)` for each valid character and `emit({}, U+FFFD)` for each byte
// that starts no valid sequence.
template <typename Emit>
void ForEachCharacter(std::string_view text, Emit emit) {
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = 0;
    const size_t length = Decode(text, pos, cp);
    if (length == 0) {
      emit(std::string_view(), char32_t{0xFFFD});
      ++pos;
    } else {
      emit(text.substr(pos, length), cp);
      pos += length;
    }
  }
}

}  // namespace

std::string ToValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  ForEachCharacter(text, [&out](std::string_view bytes, char32_t) {
    out.append(bytes.empty() ? kReplacement : bytes);
  });
  return out;
}

std::string SanitizeForTerminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  ForEachCharacter(text, [&out](std::string_view bytes, char32_t cp) {
    if (bytes.empty()) {
      out.append(kReplacement);
    } else if (cp == '\t' || cp == '\n' || cp == '\r') {
      out.push_back(' ');
    } else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
      out.append(fmt::format("\\x{:02x}", static_cast<uint32_t>(cp)));
    } else {
      out.append(bytes);
    }
  });
  return out;
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = 0;
    const size_t length = Decode(text, pos, cp);
    if (length == 0) {
      ++width;
      ++pos;
      continue;
    }
    width += Columns(cp);
    pos += length;
  }
  return width;
}

std::string FitToWidth(std::string_view text, size_t width) {
  if (width == 0 || DisplayWidth(text) <= width) return std::string(text);
  if (width <= 3) return std::string(width, '.');
  const size_t budget = width - 3;
  size_t used = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    size_t length = Decode(text, pos, cp);
    const size_t columns = length == 0 ? 1 : Columns(cp);
    if (length == 0) length = 1;
    if (used + columns > budget) break;
    used += columns;
    pos += length;
  }
  return std::string(text.substr(0, pos)) + "...";
}

std::string OneLine(std::string_view text, size_t max_chars) {
  const std::string valid = ToValidUtf8(text);
  std::string out;
  out.reserve(std::min(valid.size(), max_chars * 4 + 3));
  size_t chars = 0;
  bool pending_space = false;
  for (size_t pos = 0; pos < valid.size();) {
    char32_t cp = 0;
    const size_t length = Decode(valid, pos, cp);  // valid: never 0
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v') {
      pending_space = !out.empty();
      pos += length;
      continue;
    }
    if (chars >= max_chars) {
      out.append("...");
      return out;
    }
    if (pending_space) {
      out.push_back(' ');
      ++chars;
      pending_space = false;
      if (chars >= max_chars) {
        out.append("...");
        return out;
      }
    }
    out.append(valid, pos, length);
    ++chars;
    pos += length;
  }
  return out;
}

}  // namespace dbrunbook::core
