#include "support/moto.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>

#include "core/environment.h"
#include "core/strings.h"
#include "support/sandbox.h"  // ParseSandboxEnv: the env file has the same KEY=value syntax
#include "support/temp_file.h"

extern char** environ;  // NOLINT: POSIX, for posix_spawn

namespace dbrunbook::testing {
namespace {

using core::ErrorCode;
using core::MakeError;

const char* const kHint =
    "run the test through ctest, whose fixture `moto` (tests/cloud/moto_fixture start) writes "
    "it; by hand: tests/cloud/moto_fixture start DIR and export DBRUNBOOK_MOTO_DIR=DIR";

// "sigv4-proxy: POST / action=DescribeDBInstances verdict=ok 200" -> ProxyRequest.
std::optional<ProxyRequest> ParseProxyLine(std::string_view line) {
  constexpr std::string_view kPrefix = "sigv4-proxy: ";
  if (line.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  line.remove_prefix(kPrefix.size());
  const auto method_end = line.find(' ');
  const auto action_at = line.find(" action=");
  const auto verdict_at = line.find(" verdict=");
  if (method_end == std::string_view::npos || action_at == std::string_view::npos ||
      verdict_at == std::string_view::npos || !(method_end < action_at && action_at < verdict_at)) {
    return std::nullopt;
  }
  ProxyRequest r;
  r.method = std::string(line.substr(0, method_end));
  r.path = std::string(line.substr(method_end + 1, action_at - method_end - 1));
  r.action = std::string(line.substr(action_at + 8, verdict_at - action_at - 8));
  r.verdict = std::string(line.substr(verdict_at + 9));
  r.accepted = r.verdict.rfind("ok", 0) == 0;
  return r;
}

}  // namespace

core::Result<MotoFixture> LoadMotoFixture() {
  const auto dir = core::ProcessEnvironment().Get("DBRUNBOOK_MOTO_DIR");
  if (!dir || dir->empty()) {
    return MakeError(ErrorCode::kInvalidConfig, "DBRUNBOOK_MOTO_DIR is not set", kHint);
  }
  const std::string path = *dir + "/env";
  const auto text = ReadFile(path);
  if (!text) {
    return MakeError(ErrorCode::kNotFound, "the moto fixture is not running: cannot read " + path,
                     kHint);
  }
  auto vars = ParseSandboxEnv(*text, path);
  if (!vars) return core::Fail(vars.error());

  std::string missing;
  auto get = [&](const char* key) -> std::string {
    auto it = vars->find(key);
    if (it == vars->end() || it->second.empty()) {
      missing += missing.empty() ? key : std::string(", ") + key;
      return {};
    }
    return it->second;
  };
  MotoFixture f;
  f.dir = *dir;
  f.moto_url = get("MOTO_URL");
  f.endpoint_url = get("AWS_ENDPOINT_URL");
  f.region = get("AWS_REGION");
  f.access_key = get("AWS_ACCESS_KEY_ID");
  f.secret_key = get("AWS_SECRET_ACCESS_KEY");
  f.python = get("MOTO_PYTHON");
  f.proxy_log = get("PROXY_LOG");
  const std::string manifest_path = get("MANIFEST");
  if (!missing.empty()) {
    return MakeError(ErrorCode::kParse, path + ": missing " + missing,
                     "the file was not written by this version of tests/cloud/moto_fixture");
  }
  const auto manifest = ReadFile(manifest_path);
  if (!manifest) {
    return MakeError(ErrorCode::kNotFound, "cannot read the moto manifest " + manifest_path, kHint);
  }
  f.manifest = nlohmann::json::parse(*manifest, nullptr, /*allow_exceptions=*/false);
  if (f.manifest.is_discarded() || !f.manifest.is_object()) {
    return MakeError(ErrorCode::kParse, manifest_path + " is not a JSON object");
  }
  return f;
}

std::uint64_t ProxyLogSize(const MotoFixture& fixture) {
  std::ifstream in(fixture.proxy_log, std::ios::binary | std::ios::ate);
  if (!in) return 0;
  const auto end = in.tellg();
  return end > 0 ? static_cast<std::uint64_t>(end) : 0;
}

core::Result<ProxyVerdictCounts> ProxyVerdicts(const MotoFixture& fixture, std::uint64_t offset) {
  auto text = ReadFile(fixture.proxy_log);
  if (!text) {
    return MakeError(ErrorCode::kNotFound, "cannot read the proxy log " + fixture.proxy_log, kHint);
  }
  if (offset > text->size()) {
    return MakeError(ErrorCode::kInvalidArgument, "offset " + std::to_string(offset) +
                                                      " is past the end of " + fixture.proxy_log +
                                                      " (" + std::to_string(text->size()) +
                                                      " bytes): the fixture was restarted?");
  }
  ProxyVerdictCounts counts;
  std::size_t pos = offset;
  while (pos < text->size()) {
    const std::size_t end = text->find('\n', pos);
    if (end == std::string::npos) break;  // a line still being written
    const std::string_view line(text->data() + pos, end - pos);
    pos = end + 1;
    // The proxy also writes warnings (e.g. a failed upstream); only request lines count.
    if (auto r = ParseProxyLine(line)) {
      ++(r->accepted ? counts.accepted : counts.rejected);
      counts.requests.push_back(std::move(*r));
    }
  }
  counts.end_offset = pos;
  return counts;
}

core::Result<std::string> RunBoto3(const MotoFixture& fixture, const std::string& code) {
  const std::string prelude =
      "import json, os, boto3\n"
      "_moto = dict(endpoint_url=os.environ['DBRUNBOOK_MOTO_URL'],\n"
      "             region_name=os.environ['AWS_DEFAULT_REGION'])\n"
      "rds = boto3.client('rds', **_moto)\n"
      "cloudwatch = boto3.client('cloudwatch', **_moto)\n"
      "del _moto\n";
  const std::string what = "RunBoto3 (" + fixture.python + ")";

  TempFile input;
  TempFile output;
  TempFile errors;
  for (auto* file : {&input, &output, &errors}) {
    if (auto created =
            file->Create(file == &input ? prelude + code + "\n" : std::string(), "dbrunbook-moto");
        !created) {
      return core::Fail(created.error().WithContext(what));
    }
  }

  // Our environment without AWS_* (a profile or endpoint of the machine must not leak in),
  // plus moto's URL, region and the test credentials.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "AWS_", 4) != 0) env.emplace_back(*e);
  }
  env.push_back("DBRUNBOOK_MOTO_URL=" + fixture.moto_url);
  env.push_back("AWS_DEFAULT_REGION=" + fixture.region);
  env.push_back("AWS_ACCESS_KEY_ID=" + fixture.access_key);
  env.push_back("AWS_SECRET_ACCESS_KEY=" + fixture.secret_key);
  env.push_back("AWS_CONFIG_FILE=/dev/null");
  env.push_back("AWS_SHARED_CREDENTIALS_FILE=/dev/null");
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  std::vector<std::string> args = {fixture.python, "-"};
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
  const int spawned =
      posix_spawn(&pid, fixture.python.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return MakeError(ErrorCode::kIo, what + ": cannot run it: " + ErrorText(spawned));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return MakeError(ErrorCode::kIo, what + ": waitpid failed: " + ErrorText(errno));
    }
  }
  std::string out = ReadFile(output.path()).value_or("");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return out;
  const std::string err(core::Trim(ReadFile(errors.path()).value_or("")));
  const std::string how = WIFEXITED(status)
                              ? "exited with status " + std::to_string(WEXITSTATUS(status))
                              : "was killed by signal " + std::to_string(WTERMSIG(status));
  return MakeError(ErrorCode::kServerError,
                   what + " " + how + (err.empty() ? std::string() : ":\n" + err));
}

}  // namespace dbrunbook::testing
