// Internal to src/cloud: reading Query-protocol XML responses with pugixml.
//
// Why pugixml (Debian libpugixml-dev) rather than libxml2 or expat, which are also packaged:
// responses are small documents read as a tree (find <DBInstances>, then each <DBInstance>), and
// pugixml builds that tree in one call with no callbacks. It has no DTD machinery at all: it
// never loads external entities or DTDs, never touches the network and does not expand
// user-defined entities (no "billion laughs"), so there is no option a future edit could get
// wrong; libxml2 is safe only with the right flags (no XML_PARSE_NOENT/DTDLOAD, with NONET), and
// expat would need a hand-built tree. Its parser is iterative, so deep nesting cannot overflow
// the stack. We still refuse documents with a DOCTYPE (AWS never sends one) and documents over
// kMaxResponseBytes.
//
// Names are matched by local name (any "prefix:" is ignored) and never by namespace: RDS answers
// carry xmlns 2014-10-31, botocore's old fixtures 2013-05-15, and the parser must not care.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace dbrunbook::cloud::xml {

// Local name of an element ("a:Foo" -> "Foo").
std::string_view LocalName(pugi::xml_node node);
// First child element with that local name, or an empty node.
pugi::xml_node Child(pugi::xml_node parent, std::string_view name);

// A parsed document. Movable; the nodes handed out live as long as the document.
class Document {
 public:
  // Parses `body`; kParse naming `action` when the body is too large, not well-formed, has a
  // DOCTYPE, or has no root element.
  static core::Result<Document> Parse(std::string_view action, std::string_view body);
  pugi::xml_node root() const;

 private:
  std::unique_ptr<pugi::xml_document> doc_;
};

// A success response: the root must be <{action}Response>; an <ErrorResponse> root becomes the
// AwsError it carries (HTTP status unknown, given as 200). `result` is <{action}Result>, empty
// when the action returns nothing (botocore does the same).
struct Response {
  Document document;
  pugi::xml_node result;
  std::string request_id;
};
core::Result<Response> ParseResponse(std::string_view action, std::string_view body);

// Reads typed fields from elements, remembering the first malformed one so that a parser can
// read a whole structure and check once (Finish). Absent elements leave the output unchanged.
class FieldReader {
 public:
  explicit FieldReader(std::string_view action) : action_(action) {}

  void Read(pugi::xml_node parent, std::string_view name, std::string& out);
  void Read(pugi::xml_node parent, std::string_view name, std::optional<std::string>& out);
  void Read(pugi::xml_node parent, std::string_view name, bool& out);
  void Read(pugi::xml_node parent, std::string_view name, std::optional<bool>& out);
  void Read(pugi::xml_node parent, std::string_view name, int64_t& out);
  void Read(pugi::xml_node parent, std::string_view name, std::optional<int64_t>& out);
  void Read(pugi::xml_node parent, std::string_view name, std::optional<double>& out);
  void Read(pugi::xml_node parent, std::string_view name, std::optional<core::WallTime>& out);

  // Scalar conversions of one element's text; nullopt (and the error recorded) when malformed.
  std::optional<bool> Bool(pugi::xml_node node);
  std::optional<int64_t> Int(pugi::xml_node node);
  std::optional<double> Double(pugi::xml_node node);
  std::optional<core::WallTime> Time(pugi::xml_node node);

  // The elements of a list: <list_name><item_name>..</item_name>...</list_name>.
  template <typename F>
  void ForEach(pugi::xml_node parent, std::string_view list_name, std::string_view item_name,
               F&& each) {
    for (pugi::xml_node item : Child(parent, list_name).children()) {
      if (item.type() == pugi::node_element && LocalName(item) == item_name) each(item);
    }
  }
  std::vector<std::string> Strings(pugi::xml_node parent, std::string_view list_name,
                                   std::string_view item_name);

  void Fail(pugi::xml_node node, std::string_view what);
  bool ok() const { return !error_.has_value(); }
  // Ok, or the first malformed field as kParse naming the action and the element path.
  core::Status Finish() const;

 private:
  std::string action_;
  std::optional<std::string> error_;
};

// Parses <{action}Response>, hands its <{action}Result> to `read(FieldReader&, result)`, which
// returns a T with a `request_id`, and checks the fields (the shared frame of every typed
// response parser of rds_api.cc and cloudwatch_api.cc).
template <typename T, typename F>
core::Result<T> ParseWith(std::string_view action, std::string_view body, F&& read) {
  auto response = ParseResponse(action, body);
  if (!response) return core::Fail(response.error());
  FieldReader reader(action);
  T out = read(reader, response->result);
  out.request_id = response->request_id;
  if (auto ok = reader.Finish(); !ok) return core::Fail(ok.error());
  return out;
}

}  // namespace dbrunbook::cloud::xml
