#include "support/sandbox.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "core/environment.h"
#include "core/strings.h"
#include "support/temp_file.h"

namespace dbrunbook::testing {
namespace {

using core::ErrorCode;
using core::MakeError;

bool IsKeyStart(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool IsKeyChar(char c) { return IsKeyStart(c) || (c >= '0' && c <= '9'); }
bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

core::Result<std::map<std::string, std::string>> ParseSandboxEnv(std::string_view text,
                                                                 std::string_view origin) {
  std::map<std::string, std::string> vars;
  size_t i = 0;
  int line = 1;
  auto fail = [&](const std::string& what) {
    return MakeError(ErrorCode::kParse,
                     std::string(origin) + ":" + std::to_string(line) + ": " + what);
  };
  const auto n = text.size();
  while (i < n) {
    // Start of a line: blanks, then an empty line, a comment or KEY=value.
    while (i < n && IsBlank(text[i])) ++i;
    if (i >= n) break;
    if (text[i] == '\n') {
      ++i;
      ++line;
      continue;
    }
    if (text[i] == '#') {
      while (i < n && text[i] != '\n') ++i;
      continue;
    }
    if (!IsKeyStart(text[i])) return fail("expected KEY=value");
    const size_t key_start = i;
    while (i < n && IsKeyChar(text[i])) ++i;
    const std::string key(text.substr(key_start, i - key_start));
    if (i >= n || text[i] != '=') return fail("expected '=' after " + key);
    ++i;

    std::string value;
    const int value_line = line;
    while (i < n && !IsBlank(text[i]) && text[i] != '\n') {
      const char c = text[i];
      if (c == '\'') {
        const size_t close = text.find('\'', i + 1);
        if (close == std::string_view::npos) {
          line = value_line;
          return fail("unterminated single quote in the value of " + key);
        }
        for (size_t j = i + 1; j < close; ++j) {
          if (text[j] == '\n') ++line;
        }
        value.append(text.substr(i + 1, close - i - 1));
        i = close + 1;
      } else if (c == '"') {
        ++i;
        bool closed = false;
        while (i < n) {
          const char d = text[i];
          if (d == '"') {
            closed = true;
            ++i;
            break;
          }
          if (d == '$' || d == '`')
            return fail("expansions are not supported (value of " + key + ")");
          if (d == '\\' && i + 1 < n) {
            const char e = text[i + 1];
            if (e == '\n') {  // line continuation
              i += 2;
              ++line;
              continue;
            }
            if (e == '$' || e == '`' || e == '"' || e == '\\') {
              value.push_back(e);
              i += 2;
              continue;
            }
          }
          if (d == '\n') ++line;
          value.push_back(d);
          ++i;
        }
        if (!closed) {
          line = value_line;
          return fail("unterminated double quote in the value of " + key);
        }
      } else if (c == '\\') {
        if (i + 1 >= n) return fail("dangling backslash in the value of " + key);
        if (text[i + 1] == '\n') {
          ++line;
        } else {
          value.push_back(text[i + 1]);
        }
        i += 2;
      } else if (c == '$' || c == '`') {
        return fail("expansions are not supported (value of " + key + ")");
      } else if (c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '(' || c == ')') {
        return fail(std::string("unexpected '") + c + "' in the value of " + key);
      } else {
        value.push_back(c);
        ++i;
      }
    }
    // Only blanks or a comment may follow the value on its line.
    while (i < n && IsBlank(text[i])) ++i;
    if (i < n && text[i] == '#') {
      while (i < n && text[i] != '\n') ++i;
    }
    if (i < n && text[i] != '\n') return fail("unexpected text after the value of " + key);
    vars[key] = std::move(value);
  }
  return vars;
}

core::Result<std::string> SandboxDir() {
  const auto dir = core::ProcessEnvironment().Get("DBRUNBOOK_SANDBOX_DIR");
  if (!dir || dir->empty()) {
    return MakeError(ErrorCode::kInvalidConfig, "DBRUNBOOK_SANDBOX_DIR is not set",
                     "run integration tests through ctest, whose fixtures start the sandbox "
                     "servers and set it; or export it and run scripts/sandbox start <name>");
  }
  return *dir;
}

core::Result<SandboxServer> LoadSandbox(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "invalid sandbox name '" + name + "'");
  }
  auto dir = SandboxDir();
  if (!dir) return core::Fail(dir.error());
  const std::string path = *dir + "/" + name + "/env";
  const std::string hint = "the CTest fixture sandbox_" + name +
                           " starts it (run the test through ctest); by hand: "
                           "DBRUNBOOK_SANDBOX_DIR=" +
                           *dir + " scripts/sandbox start " + name;
  const auto text = ReadFile(path);
  if (!text) {
    return MakeError(ErrorCode::kNotFound,
                     "sandbox '" + name + "' is not available: cannot read " + path, hint);
  }
  auto vars = ParseSandboxEnv(*text, path);
  if (!vars) return core::Fail(vars.error());

  std::string missing;
  auto get = [&](const char* key) -> std::string {
    auto it = vars->find(key);
    if (it == vars->end()) {
      missing += missing.empty() ? key : std::string(", ") + key;
      return {};
    }
    return it->second;
  };
  SandboxServer s;
  s.name = get("SANDBOX_NAME");
  s.host = get("SANDBOX_HOST");
  s.socket = get("SANDBOX_SOCKET");
  s.datadir = get("SANDBOX_DATADIR");
  s.dir = get("SANDBOX_DIR");
  s.tls_ca = get("SANDBOX_TLS_CA");
  s.tls_cert = get("SANDBOX_TLS_CERT");
  s.tls_key = get("SANDBOX_TLS_KEY");
  s.slow_log = get("SANDBOX_SLOW_LOG");
  s.error_log = get("SANDBOX_ERROR_LOG");
  s.replica_of = get("SANDBOX_REPLICA_OF");
  s.monitor_user = get("SANDBOX_MONITOR_USER");
  s.monitor_password_file = get("SANDBOX_MONITOR_PASSWORD_FILE");
  const std::string port = get("SANDBOX_PORT");
  const std::string server_id = get("SANDBOX_SERVER_ID");
  if (!missing.empty()) {
    return MakeError(ErrorCode::kParse, path + ": missing " + missing,
                     "the file was not written by this version of scripts/sandbox; restart the "
                     "sandbox with --fresh");
  }
  if (s.name != name) {
    return MakeError(ErrorCode::kParse,
                     path + ": SANDBOX_NAME is '" + s.name + "', expected '" + name + "'");
  }
  const auto port_value = core::ParseUint64(port);
  if (!port_value || *port_value == 0 || *port_value > 65535) {
    return MakeError(ErrorCode::kParse, path + ": SANDBOX_PORT '" + port + "' is not a port");
  }
  s.port = static_cast<uint16_t>(*port_value);
  const auto id_value = core::ParseUint64(server_id);
  if (!id_value || *id_value > UINT32_MAX) {
    return MakeError(ErrorCode::kParse,
                     path + ": SANDBOX_SERVER_ID '" + server_id + "' is not a server id");
  }
  s.server_id = static_cast<uint32_t>(*id_value);

  auto password = ReadFile(s.monitor_password_file);
  if (!password) {
    return MakeError(
        ErrorCode::kNotFound,
        "sandbox '" + name + "': cannot read the monitor password file " + s.monitor_password_file,
        hint);
  }
  while (!password->empty() && (password->back() == '\n' || password->back() == '\r')) {
    password->pop_back();
  }
  if (password->empty()) {
    return MakeError(ErrorCode::kParse, "sandbox '" + name + "': the monitor password file " +
                                            s.monitor_password_file + " is empty");
  }
  s.monitor_password = core::Secret(std::move(*password));
  return s;
}

mysql::ConnectOptions SandboxServer::MonitorOptions() const {
  mysql::ConnectOptions options;
  options.target_name = name;
  options.host = host;
  options.port = port;
  options.user = monitor_user;
  options.password = monitor_password;
  options.password_source = "file " + monitor_password_file;
  options.tls.mode = mysql::TlsMode::kPreferred;
  return options;
}

mysql::ConnectOptions SandboxServer::RootOptions() const {
  mysql::ConnectOptions options;
  options.target_name = name;
  options.host = "localhost";
  options.port = port;
  options.socket = socket;
  options.user = "root";
  return options;
}

core::Result<std::string> SandboxSql(const std::string& name, const std::string& sql,
                                     const std::vector<std::string>& client_args) {
  const auto source_dir = core::ProcessEnvironment().Get("DBRUNBOOK_SOURCE_DIR");
  if (!source_dir || source_dir->empty()) {
    return MakeError(ErrorCode::kInvalidConfig, "DBRUNBOOK_SOURCE_DIR is not set",
                     "run the test through ctest, which sets it to the repository root");
  }
  const std::string script = *source_dir + "/scripts/sandbox";
  const std::string what = "scripts/sandbox sql " + name;

  // stdin, stdout and stderr go through files: no pipe can fill up and deadlock.
  TempFile input;
  TempFile output;
  TempFile errors;
  for (auto* file : {&input, &output, &errors}) {
    if (auto created = file->Create(file == &input ? sql : std::string(), "dbrunbook-sandbox-sql");
        !created) {
      return core::Fail(created.error().WithContext(what));
    }
  }

  std::vector<std::string> args = {script, "sql", name};
  args.insert(args.end(), client_args.begin(), client_args.end());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, input.path().c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, output.path().c_str(), O_WRONLY | O_TRUNC, 0);
  posix_spawn_file_actions_addopen(&actions, 2, errors.path().c_str(), O_WRONLY | O_TRUNC, 0);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, script.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return MakeError(ErrorCode::kIo, what + ": cannot run " + script + ": " + ErrorText(spawned));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return MakeError(ErrorCode::kIo, what + ": waitpid failed: " + ErrorText(errno));
    }
  }
  const std::string out = ReadFile(output.path()).value_or("");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return out;

  std::string err(core::Trim(ReadFile(errors.path()).value_or("")));
  const std::string how = WIFEXITED(status)
                              ? "exited with status " + std::to_string(WEXITSTATUS(status))
                              : "was killed by signal " + std::to_string(WTERMSIG(status));
  return MakeError(ErrorCode::kServerError,
                   what + " " + how + (err.empty() ? std::string() : ": " + err));
}

uint16_t ClosedLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace dbrunbook::testing
