// ResolveConnectOptions and ConnectOptionsFromDsn (declared in config.h): the step from
// "what the configuration says" to "everything needed to connect", which reads option
// files, environment variables and password files, so it runs when a connection is made,
// not when the configuration is loaded.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "config/config.h"
#include "config/dsn.h"
#include "config/option_file.h"

namespace dbrunbook::config {
namespace {

namespace fs = std::filesystem;
using core::ErrorCode;

constexpr std::uintmax_t kMaxPasswordFileBytes = 64UL * 1024;

core::Error TargetError(const TargetConfig& target, ErrorCode code, std::string message,
                        std::string hint) {
  return core::Error{
      code, fmt::format("target '{}': {}", target.name, message), std::move(hint), 0, {}};
}

// Warns when a file holding a password can be read by group or others.
void CheckPrivate(const TargetConfig& target, const std::string& what, const std::string& path,
                  std::vector<Diagnostic>* warnings) {
  if (warnings == nullptr) return;
  std::error_code ec;
  const fs::perms perms = fs::status(path, ec).permissions();
  if (ec) return;
  const fs::perms readable = fs::perms::group_read | fs::perms::others_read;
  if ((perms & readable) == fs::perms::none) return;
  warnings->push_back(
      Diagnostic{Diagnostic::Severity::kWarning, SourceLocation{}, "",
                 fmt::format("target '{}': {} {} holds a password and is readable by other users",
                             target.name, what, path),
                 fmt::format("chmod 600 {}", path)});
}

core::Result<core::Secret> ReadPasswordFile(const TargetConfig& target,
                                            std::vector<Diagnostic>* warnings) {
  const std::string& path = target.password_file;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return core::Fail(TargetError(target, ErrorCode::kNotFound,
                                  fmt::format("password_file {} does not exist", path),
                                  "create it (chmod 600) or change password_file"));
  }
  if (!fs::is_regular_file(status) || fs::file_size(path, ec) > kMaxPasswordFileBytes || ec) {
    return core::Fail(TargetError(target, ErrorCode::kIo,
                                  fmt::format("password_file {} is not a small regular file", path),
                                  "put the password alone on its first line"));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return core::Fail(TargetError(target, ErrorCode::kIo,
                                  fmt::format("password_file {} cannot be read", path),
                                  "check its owner and permissions (dbrunbook must read it)"));
  }
  std::string password = std::move(text).str();
  // One trailing newline, as `echo secret > file` writes it.
  if (!password.empty() && password.back() == '\n') password.pop_back();
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    return core::Fail(TargetError(target, ErrorCode::kInvalidConfig,
                                  fmt::format("password_file {} is empty", path),
                                  "write the password on its first line"));
  }
  CheckPrivate(target, "password_file", path, warnings);
  return core::Secret(std::move(password));
}

// The option file that applies to `target`, with the label used in password_source; empty
// when none does.
std::pair<std::string, std::string> OptionFileFor(const TargetConfig& target,
                                                  const core::Environment& env) {
  if (!target.defaults_file.empty()) return {target.defaults_file, "defaults_file"};
  if (target.password_kind != PasswordSourceKind::kNone) return {};
  const auto home = env.Get("HOME");
  if (!home || home->empty()) return {};
  const std::string path = (fs::path(*home) / ".my.cnf").string();
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  return {path, "option file"};
}

}  // namespace

core::Result<mysql::ConnectOptions> ResolveConnectOptions(const TargetConfig& target,
                                                          const core::Environment& env,
                                                          std::vector<Diagnostic>* warnings) {
  const std::string context = fmt::format("target '{}'", target.name);
  mysql::ConnectOptions options;
  options.target_name = target.name;

  const auto [option_file, label] = OptionFileFor(target, env);
  if (!option_file.empty()) {
    auto options_read = ReadOptionFile(option_file);
    if (!options_read) return core::Fail(options_read.error().WithContext(context));
    auto settings = OptionsToConnectSettings(*options_read, label);
    if (!settings) return core::Fail(settings.error().WithContext(context));
    settings->ApplyTo(options);
    if (const OptionValue* password = options_read->Find("password")) {
      CheckPrivate(target, label, password->file, warnings);
    }
  }

  target.settings.ApplyTo(options);

  if (target.password_kind == PasswordSourceKind::kEnv) {
    const auto value = env.Get(target.password_env);
    if (!value || value->empty()) {
      return core::Fail(TargetError(target, ErrorCode::kInvalidConfig,
                                    fmt::format("environment variable {} is {}",
                                                target.password_env, value ? "empty" : "not set"),
                                    "export it or change password_env"));
    }
    options.password = core::Secret(*value);
    options.password_source = "password_env " + target.password_env;
  } else if (target.password_kind == PasswordSourceKind::kFile) {
    auto password = ReadPasswordFile(target, warnings);
    if (!password) return core::Fail(password.error());
    options.password = std::move(*password);
    options.password_source = "password_file " + target.password_file;
  }

  // The configuration allows VERIFY_* without a CA when an option file may supply it; now we
  // know whether it did.
  const bool verifies = options.tls.mode == mysql::TlsMode::kVerifyCa ||
                        options.tls.mode == mysql::TlsMode::kVerifyIdentity;
  if (verifies && options.tls.ca.empty() && options.tls.capath.empty()) {
    return core::Fail(
        TargetError(target, ErrorCode::kInvalidConfig,
                    fmt::format("tls mode {} needs a CA to check the server certificate against",
                                mysql::TlsModeName(options.tls.mode)),
                    "set tls.ca or tls.capath (or ssl-ca in the defaults_file)"));
  }
  return options;
}

core::Result<mysql::ConnectOptions> ConnectOptionsFromDsn(std::string_view dsn,
                                                          const DsnCredentials& credentials,
                                                          const core::Environment& env,
                                                          std::vector<Diagnostic>* warnings) {
  if (!credentials.password_env.empty() && !credentials.password_file.empty()) {
    return core::MakeError(ErrorCode::kInvalidArgument,
                           "--password-env and --password-file are both given", "use one");
  }
  TargetConfig target;
  if (dsn.empty()) {
    // The whole target comes from the option file, as `mysql --defaults-file=F` does.
    if (credentials.defaults_file.empty()) {
      return core::MakeError(ErrorCode::kInvalidArgument, "no DSN and no --defaults-file given",
                             "give --dsn URL, or --defaults-file with the connection in [client]");
    }
    target.name = "defaults-file " + credentials.defaults_file;
  } else {
    auto settings = ParseDsn(dsn);
    if (!settings) return core::Fail(settings.error());
    target.settings = std::move(*settings);
    target.settings.ApplyTo(target.connect);
    target.name = FormatDsn(target.connect);
  }
  target.connect.target_name = target.name;
  if (!credentials.password_env.empty()) {
    target.password_kind = PasswordSourceKind::kEnv;
    target.password_env = credentials.password_env;
  } else if (!credentials.password_file.empty()) {
    target.password_kind = PasswordSourceKind::kFile;
    target.password_file = credentials.password_file;
  }
  target.defaults_file = credentials.defaults_file;
  auto options = ResolveConnectOptions(target, env, warnings);
  if (options && dsn.empty()) {
    // Name the target after what the option file says it is.
    options->target_name = FormatDsn(*options);
  }
  return options;
}

}  // namespace dbrunbook::config
