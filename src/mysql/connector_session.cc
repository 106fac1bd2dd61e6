#include "mysql/connector_session.h"

#include <errmsg.h>
#include <fmt/format.h>
#include <mysql.h>

#include <algorithm>
#include <mutex>

#include "mysql/errors.h"

namespace dbrunbook::mysql {
namespace {

struct MysqlCloser {
  void operator()(MYSQL* m) const { mysql_close(m); }
};
struct ResultFree {
  void operator()(MYSQL_RES* r) const { mysql_free_result(r); }
};
using MysqlPtr = std::unique_ptr<MYSQL, MysqlCloser>;
using ResultPtr = std::unique_ptr<MYSQL_RES, ResultFree>;

// mysql_library_init is not thread-safe on first use; run it exactly once per process.
void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

unsigned int RoundUpSeconds(std::chrono::milliseconds ms) {
  const auto secs = (ms.count() + 999) / 1000;
  return static_cast<unsigned int>(std::max<int64_t>(1, secs));
}

ColumnKind KindOf(const MYSQL_FIELD& field) {
  switch (field.type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_YEAR:
    case MYSQL_TYPE_BIT:
      return ColumnKind::kInteger;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
      return ColumnKind::kDecimal;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
      return ColumnKind::kFloat;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_NEWDATE:
      return ColumnKind::kTemporal;
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_VARCHAR:
      return field.charsetnr == 63 ? ColumnKind::kBinary : ColumnKind::kString;  // 63 = binary
    default:
      return ColumnKind::kOther;
  }
}

class ConnectorSession final : public Session {
 public:
  ConnectorSession(MysqlPtr mysql, const ConnectOptions& options, core::Clock& clock,
                   std::shared_ptr<core::Logger> logger, ConnectionInfo info)
      : mysql_(std::move(mysql)),
        options_(options),
        clock_(clock),
        logger_(std::move(logger)),
        info_(std::move(info)) {
    // Authentication is done: do not keep the password in memory longer than needed.
    options_.password = core::Secret();
  }

  core::Result<ResultSet> Query(std::string_view sql) override {
    return Run(sql, Phase::kQuery, /*fetch_warnings=*/true);
  }

  const ConnectionInfo& info() const override { return info_; }
  uint64_t statements_sent() const override { return statements_sent_; }

  core::Status RunInitStatements() {
    const auto start = clock_.MonotonicNow();
    for (const auto& statement : options_.init_statements) {
      auto result = Run(statement, Phase::kSessionSetup, /*fetch_warnings=*/false);
      if (!result) return core::Fail(result.error());
    }
    info_.setup_time = clock_.MonotonicNow() - start;
    return core::Ok();
  }

 private:
  core::Error LastError(Phase phase, std::string_view sql, core::Duration elapsed) const {
    ErrorContext context{phase, &options_, sql, elapsed};
    return ClassifyError(static_cast<int>(mysql_errno(mysql_.get())), mysql_sqlstate(mysql_.get()),
                         mysql_error(mysql_.get()), context);
  }

  core::Result<ResultSet> Run(std::string_view sql, Phase phase, bool fetch_warnings) {
    MYSQL* m = mysql_.get();
    ++statements_sent_;
    const auto start = clock_.MonotonicNow();
    std::string tagged;
    if (!options_.program_name.empty()) {
      tagged.reserve(sql.size() + options_.program_name.size() + 7);
      tagged.append("/* ").append(options_.program_name).append(" */ ").append(sql);
    }
    const std::string_view sent = tagged.empty() ? sql : std::string_view(tagged);
    if (mysql_real_query(m, sent.data(), sent.size()) != 0) {
      auto error = LastError(phase, sql, clock_.MonotonicNow() - start);
      if (Debugging()) LogStatement(sql, start, fmt::format("error {}", error.server_errno));
      return core::Fail(std::move(error));
    }
    ResultSet result;
    bool first = true;
    int status = 0;
    do {
      ResultPtr res(mysql_store_result(m));
      if (res == nullptr && mysql_field_count(m) != 0) {
        return core::Fail(LastError(phase, sql, clock_.MonotonicNow() - start));
      }
      if (first) {
        if (res != nullptr) {
          result = ToResultSet(res.get());
        } else {
          result.affected_rows = mysql_affected_rows(m);
        }
        first = false;
      }
      status = mysql_next_result(m);
      if (status > 0) return core::Fail(LastError(phase, sql, clock_.MonotonicNow() - start));
    } while (status == 0);

    if (Debugging()) {
      LogStatement(sql, start,
                   result.columns->size() > 0 ? fmt::format("{} rows", result.rows.size())
                                              : fmt::format("{} affected", result.affected_rows));
    }
    if (fetch_warnings && mysql_warning_count(m) > 0 && !options_.warnings_statement.empty()) {
      auto warnings = Run(options_.warnings_statement, Phase::kQuery, /*fetch_warnings=*/false);
      if (warnings) {
        for (const auto& row : warnings->rows) {
          result.warnings.push_back(ServerWarning{
              row["Level"].StringOr(""), static_cast<int>(row["Code"].AsInt64().value_or(0)),
              row["Message"].StringOr("")});
        }
      }
    }
    return result;
  }

  static ResultSet ToResultSet(MYSQL_RES* res) {
    const unsigned int n = mysql_num_fields(res);
    MYSQL_FIELD* fields = mysql_fetch_fields(res);
    std::vector<Column> columns;
    columns.reserve(n);
    for (unsigned int i = 0; i < n; ++i) {
      columns.push_back(
          Column{std::string(fields[i].name, fields[i].name_length), KindOf(fields[i])});
    }
    ResultSet result;
    result.columns = std::make_shared<Columns>(std::move(columns));
    result.rows.reserve(mysql_num_rows(res));
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      unsigned long* lengths = mysql_fetch_lengths(res);
      std::vector<std::optional<std::string>> values;
      values.reserve(n);
      for (unsigned int i = 0; i < n; ++i) {
        if (row[i] == nullptr) {
          values.emplace_back(std::nullopt);
        } else {
          values.emplace_back(std::string(row[i], lengths[i]));
        }
      }
      result.rows.emplace_back(result.columns, std::move(values));
    }
    return result;
  }

  bool Debugging() const { return logger_->should_log(spdlog::level::debug); }

  void LogStatement(std::string_view sql, core::MonoTime start, std::string_view outcome) const {
    logger_->debug("{}: {:.2f} ms {} -> {}", options_.target_name,
                   core::ToSeconds(clock_.MonotonicNow() - start) * 1000, ShortStatement(sql, 120),
                   outcome);
  }

  MysqlPtr mysql_;
  ConnectOptions options_;
  core::Clock& clock_;
  std::shared_ptr<core::Logger> logger_;
  ConnectionInfo info_;
  uint64_t statements_sent_ = 0;
};

// Applies TLS settings. Connector/C 3.3 semantics: any ssl option turns TLS on if the server
// offers it; MYSQL_OPT_SSL_ENFORCE makes it mandatory; a CA makes OpenSSL verify the chain;
// MYSQL_OPT_SSL_VERIFY_SERVER_CERT adds the host name check.
void ApplyTls(MYSQL* m, const TlsOptions& tls) {
  auto set_if = [m](mysql_option option, const std::string& value) {
    if (!value.empty()) mysql_optionsv(m, option, value.c_str());
  };
  my_bool on = 1;
  my_bool off = 0;
  switch (tls.mode) {
    case TlsMode::kDisabled:
      return;
    case TlsMode::kPreferred:
    case TlsMode::kRequired:
      // No CA: encrypt without verifying (like the MySQL client in these modes).
      set_if(MYSQL_OPT_SSL_CERT, tls.cert);
      set_if(MYSQL_OPT_SSL_KEY, tls.key);
      set_if(MYSQL_OPT_SSL_CIPHER, tls.cipher);
      // Request TLS; REQUIRED also refuses a server that does not offer it.
      mysql_ssl_set(m, nullptr, nullptr, nullptr, nullptr, nullptr);
      if (tls.mode == TlsMode::kRequired) mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
      mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &off);
      return;
    case TlsMode::kVerifyCa:
    case TlsMode::kVerifyIdentity:
      set_if(MYSQL_OPT_SSL_CA, tls.ca);
      set_if(MYSQL_OPT_SSL_CAPATH, tls.capath);
      set_if(MYSQL_OPT_SSL_CERT, tls.cert);
      set_if(MYSQL_OPT_SSL_KEY, tls.key);
      set_if(MYSQL_OPT_SSL_CIPHER, tls.cipher);
      mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
      mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
                     tls.mode == TlsMode::kVerifyIdentity ? &on : &off);
      return;
  }
}

}  // namespace

std::string ClientLibraryVersion() { return MARIADB_PACKAGE_VERSION; }

core::Result<std::unique_ptr<Session>> ConnectorSessionFactory::Connect(
    const ConnectOptions& options) {
  if (options.program_name.find("*/") != std::string::npos) {
    return core::MakeError(core::ErrorCode::kInvalidArgument,
                           "program_name must not contain '*/' (it is sent inside a comment)");
  }
  InitLibraryOnce();
  MysqlPtr mysql(mysql_init(nullptr));
  if (mysql == nullptr) {
    return core::MakeError(core::ErrorCode::kInternal, "out of memory creating a MySQL handle");
  }
  MYSQL* m = mysql.get();
  const unsigned int connect_timeout = RoundUpSeconds(options.connect_timeout);
  const unsigned int read_timeout = RoundUpSeconds(options.read_timeout);
  const unsigned int write_timeout = RoundUpSeconds(options.write_timeout);
  mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
  mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &write_timeout);
  my_bool off = 0;
  mysql_optionsv(m, MYSQL_OPT_RECONNECT, &off);
  unsigned int no_local_infile = 0;
  mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &no_local_infile);
  unsigned int protocol = options.uses_socket() ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
  mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &protocol);
  mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (!options.program_name.empty()) {
    mysql_optionsv(m, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", options.program_name.c_str());
  }
  ApplyTls(m, options.tls);

  const auto start = clock_.MonotonicNow();
  const char* host = options.uses_socket() ? "localhost" : options.host.c_str();
  const char* socket = options.uses_socket() ? options.socket.c_str() : nullptr;
  const char* database = options.database.empty() ? nullptr : options.database.c_str();
  const char* password = options.password.empty() ? nullptr : options.password.Reveal().c_str();
  if (mysql_real_connect(m, host, options.user.c_str(), password, database,
                         options.uses_socket() ? 0 : options.port, socket, 0) == nullptr) {
    ErrorContext context{Phase::kConnect, &options, {}, clock_.MonotonicNow() - start};
    auto error =
        ClassifyError(static_cast<int>(mysql_errno(m)), mysql_sqlstate(m), mysql_error(m), context);
    logger_->debug("{}: connect to {} failed after {:.1f} ms: error {}", options.target_name,
                   options.Endpoint(), core::ToSeconds(context.elapsed) * 1000, error.server_errno);
    return core::Fail(std::move(error));
  }
  ConnectionInfo info;
  info.connect_time = clock_.MonotonicNow() - start;
  info.target_name = options.target_name;
  info.endpoint = options.Endpoint();
  info.user = options.user;
  info.server_version = mysql_get_server_info(m);
  info.connection_id = mysql_thread_id(m);
  if (const char* cipher = mysql_get_ssl_cipher(m); cipher != nullptr) {
    info.tls = true;
    info.tls_cipher = cipher;
    const char* version = nullptr;
    if (mariadb_get_infov(m, MARIADB_CONNECTION_TLS_VERSION, &version) == 0 && version != nullptr) {
      info.tls_version = version;
    }
  }
  if (options.tls.mode >= TlsMode::kRequired && !info.tls) {
    // Defence in depth: never run unencrypted when the configuration demands TLS, whatever
    // the client library decided.
    return core::MakeError(
        core::ErrorCode::kTlsError,
        fmt::format("target '{}' at {} accepted a connection without TLS although tls.mode is {}",
                    options.target_name, options.Endpoint(), TlsModeName(options.tls.mode)),
        "the server does not offer TLS: enable TLS on the server, or lower tls.mode");
  }
  logger_->debug(
      "{}: connected to {} as '{}' in {:.1f} ms, connection id {}, {}", options.target_name,
      info.endpoint, options.user, core::ToSeconds(info.connect_time) * 1000, info.connection_id,
      info.tls ? fmt::format("{} {}", info.tls_version, info.tls_cipher) : std::string("no TLS"));
  auto session = std::make_unique<ConnectorSession>(std::move(mysql), options, clock_, logger_,
                                                    std::move(info));
  if (auto setup = session->RunInitStatements(); !setup) return core::Fail(setup.error());
  return session;
}

}  // namespace dbrunbook::mysql
