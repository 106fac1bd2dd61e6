#include "config/yaml_tree.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <exception>
#include <string>

namespace dbrunbook::config {
namespace {

// Aliases are expanded when copying into the tree; a small document of nested aliases could
// otherwise expand to billions of nodes.
constexpr size_t kMaxNodes = 100000;

class Converter {
 public:
  explicit Converter(const std::string& file) : file_(file) {}

  // Returns false (and sets `error`) when the document is not acceptable.
  bool Convert(const YAML::Node& in, const SourceLocation& fallback, YamlNode& out) {
    if (++count_ > kMaxNodes) {
      return Fail(fallback, "the document expands to too many nodes (nested aliases?)");
    }
    out.where = Where(in.Mark(), fallback);
    switch (in.Type()) {
      case YAML::NodeType::Scalar:
        out.kind = YamlNode::Kind::kScalar;
        out.scalar = in.Scalar();
        return true;
      case YAML::NodeType::Sequence:
        out.kind = YamlNode::Kind::kSequence;
        for (const auto& item : in) {
          YamlNode child;
          if (!Convert(item, out.where, child)) return false;
          out.items.push_back(std::move(child));
        }
        return true;
      case YAML::NodeType::Map:
        out.kind = YamlNode::Kind::kMap;
        for (const auto& pair : in) {
          YamlEntry entry;
          entry.key_where = Where(pair.first.Mark(), out.where);
          if (!pair.first.IsScalar()) {
            return Fail(entry.key_where, "mapping keys must be plain names");
          }
          entry.key = pair.first.Scalar();
          // A null value (`key:`) has no position of its own worth showing: use the key's.
          if (!Convert(pair.second, entry.key_where, entry.value)) return false;
          if (pair.second.IsNull()) entry.value.where = entry.key_where;
          out.entries.push_back(std::move(entry));
        }
        return true;
      default:
        out.kind = YamlNode::Kind::kNull;
        return true;
    }
  }

  Diagnostic error;

 private:
  SourceLocation Where(const YAML::Mark& mark, const SourceLocation& fallback) const {
    if (mark.is_null() || mark.line < 0) return fallback;
    return SourceLocation{file_, mark.line + 1, mark.column + 1, ""};
  }

  bool Fail(const SourceLocation& where, std::string message) {
    error = Diagnostic{Diagnostic::Severity::kError, where, "", std::move(message), ""};
    return false;
  }

  const std::string& file_;
  size_t count_ = 0;
};

}  // namespace

std::string_view YamlNode::KindName() const {
  switch (kind) {
    case Kind::kNull:
      return "nothing";
    case Kind::kScalar:
      return "a string";
    case Kind::kMap:
      return "a mapping";
    case Kind::kSequence:
      return "a list";
  }
  return "nothing";
}

namespace {

// Line (1-based) of a second document in `text`, or 0. A line starting with "---" opens a
// document; one before any content is the optional explicit start of the first. After a
// "..." end marker, only blank lines and comments may follow. (Block scalars cannot hide such
// a line: their content is indented.) yaml-cpp's own LoadAll is not used: version 0.7 loops
// forever on some malformed input (found by fuzz/config_fuzz).
int SecondDocumentLine(std::string_view text) {
  bool content = false;
  bool ended = false;
  int line_number = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = text.substr(pos, end - pos);
    ++line_number;
    pos = end + 1;
    const auto marker = [&](std::string_view m) {
      return line.substr(0, 3) == m && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' ||
                                        line[3] == '\r' || line[3] == '#');
    };
    const size_t first = line.find_first_not_of(" \t\r");
    const bool blank_or_comment = first == std::string_view::npos || line[first] == '#';
    if (marker("---")) {
      if (content || ended) return line_number;
      content = true;  // an explicit start; what follows on the line belongs to it
      continue;
    }
    if (marker("...")) {
      ended = true;
      continue;
    }
    if (blank_or_comment) continue;
    if (ended) return line_number;
    content = true;
  }
  return 0;
}

}  // namespace

tl::expected<YamlNode, Diagnostic> ParseYamlDocument(std::string_view text,
                                                     const std::string& display_path) {
  const SourceLocation file_location{display_path, 0, 0, ""};
  if (const int line = SecondDocumentLine(text); line > 0) {
    return tl::unexpected(Diagnostic{Diagnostic::Severity::kError,
                                     SourceLocation{display_path, line, 1, ""}, "",
                                     "a second YAML document starts here; dbrunbook reads one",
                                     "remove the extra '---' separator"});
  }
  // yaml-cpp reports errors by throwing; nothing thrown leaves this function.
  try {
    const YAML::Node document = YAML::Load(std::string(text));
    YamlNode root;
    root.where = file_location;
    Converter converter(display_path);
    if (!converter.Convert(document, file_location, root)) {
      return tl::unexpected(converter.error);
    }
    return root;
  } catch (const YAML::Exception& e) {
    SourceLocation where = file_location;
    if (!e.mark.is_null()) {
      where.line = e.mark.line + 1;
      where.column = e.mark.column + 1;
    }
    return tl::unexpected(Diagnostic{Diagnostic::Severity::kError, where, "",
                                     fmt::format("YAML syntax error: {}", e.msg), ""});
  } catch (const std::exception& e) {
    return tl::unexpected(Diagnostic{Diagnostic::Severity::kError, file_location, "",
                                     fmt::format("cannot parse YAML: {}", e.what()), ""});
  }
}

}  // namespace dbrunbook::config
