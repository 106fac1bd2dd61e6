// MySQL / MariaDB option files ("my.cnf"), read the way the mysql and mariadb clients read
// them, so a target can share its credentials file with those clients (`defaults_file:`),
// and ~/.my.cnf works as users expect.
//
// Syntax (one item per line; leading and trailing blanks ignored):
//   [group]               starts a group; names compare case-insensitively
//   name = value          also `name=value`; names treat '-' and '_' alike ("ssl_ca" is
//                         "ssl-ca"); a `loose-` prefix is dropped
//   name                  a switch (value "", has_value false); bare `skip-name` and
//                         `disable-name` mean `name=0`, bare `enable-name` means `name=1`
//   # comment / ; comment whole-line comments; `#` after a blank also ends a value
//                         outside quotes (so `password=ab#cd` keeps its '#')
//   !include /path.cnf    reads that file here (a relative path is relative to the
//                         including file's directory)
//   !includedir /dir      reads every *.cnf file of /dir, in name order
// Values may be quoted with '...' or "..."; in values the escapes \n \t \r \b \\ \s (space)
// \" and \' are decoded, any other backslash is kept. A later line overrides an earlier one
// (in reading order, includes expanded where they appear), whichever selected group it is
// in. Options of groups that were not asked for are skipped without being checked, so a
// shared /etc/my.cnf with server sections reads fine.
//
// Errors name the file and line: an option before any group, a line that is neither a
// group, an option nor a directive, an unterminated quote, an unreadable include, includes
// nested deeper than 10 (a cycle). A password never appears in a message.
//
// Thread-safety: free functions without shared state.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/connect_settings.h"
#include "core/error.h"

namespace dbrunbook::config {

struct OptionValue {
  std::string value;       // unquoted and unescaped; "" for a switch
  bool has_value = false;  // false for a bare `name`
  std::string file;        // the file (maybe an included one) and 1-based line it came from
  int line = 0;

  std::string Where() const;  // "/etc/mysql/my.cnf:12"
};

// The merged options of the selected groups, by canonical name ("ssl-mode").
struct OptionSet {
  std::map<std::string, OptionValue> values;
  std::vector<std::string> files;  // every file read, in reading order

  // nullptr when the option was not set; `name` may use '_' or '-'.
  const OptionValue* Find(std::string_view name) const;
};

// "client", "client-mariadb", "dbrunbook": what the mysql/mariadb clients read, plus our
// own group for settings only dbrunbook should see.
const std::vector<std::string>& DefaultOptionGroups();

// Reads `path` and what it includes. Errors: kNotFound (no such file), kIo (unreadable, or an
// include is unreadable: the message names the including file:line), kInvalidConfig (syntax).
core::Result<OptionSet> ReadOptionFile(
    const std::string& path, const std::vector<std::string>& groups = DefaultOptionGroups());

// Same, for text already in memory; `path` names it in messages and anchors relative
// includes.
core::Result<OptionSet> ParseOptionText(
    std::string_view text, const std::string& path,
    const std::vector<std::string>& groups = DefaultOptionGroups());

// The connection settings an option set names: user, password, host, port, socket,
// database, ssl-mode, ssl-ca, ssl-capath, ssl-cert, ssl-key, ssl-cipher, connect-timeout,
// and the TLS switches of the mysql and mariadb clients:
//
//   ssl-mode=MODE                   MODE; wins over the switches below
//   skip-ssl, ssl=0, disable-ssl    DISABLED (TLS off, so nothing left to verify)
//   ssl-verify-server-cert          VERIFY_IDENTITY (the MariaDB / pre-8.0 MySQL switch
//                                   checks the chain and the host name), unless TLS is off
//   ssl, ssl=1, enable-ssl          REQUIRED (TLS, no verification), unless verified above
//   ssl-verify-server-cert=0        no effect of its own
//
// Other options (default-character-set, prompt, ...) are ignored. A password found sets
// `password_source` to "<password_source_label> <file holding it>". A `password` line
// without a value (the mysql client would prompt) is an error: dbrunbook cannot prompt.
// Errors are kInvalidConfig and name file:line, never the value.
core::Result<ConnectSettings> OptionsToConnectSettings(
    const OptionSet& options, std::string_view password_source_label = "defaults_file");

}  // namespace dbrunbook::config
