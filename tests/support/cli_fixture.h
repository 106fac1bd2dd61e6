// A GoogleTest fixture for tests that run the dbrunbook binary as a process
// ($DBRUNBOOK_BINARY, set by CTest): a private temporary directory, files written into it, and
// shell command lines run with a given standard input, their exit status and both outputs
// captured.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace dbrunbook::testing {

struct RunResult {
  int status = -1;  // exit status, -1 when killed by a signal
  std::string out;
  std::string err;
  std::string Describe() const {
    return "exit " + std::to_string(status) + "\nstdout:\n" + out.substr(0, 4000) + "\nstderr:\n" +
           err;
  }
};

class CliFixture : public ::testing::Test {
 protected:
  // `name` distinguishes the temporary directories of different test programs.
  explicit CliFixture(std::string name) : name_(std::move(name)) {}

  void SetUp() override {
    const char* binary = std::getenv("DBRUNBOOK_BINARY");  // NOLINT(concurrency-mt-unsafe)
    ASSERT_NE(binary, nullptr) << "run through CTest (DBRUNBOOK_BINARY)";
    binary_ = binary;
    dir_ = std::filesystem::temp_directory_path() /
           ("dbrunbook-" + name_ + "-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }
  static std::string Slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Runs `command` (a shell fragment; $B is the binary) with `input` on stdin.
  RunResult Shell(const std::string& command, const std::string& input = "") {
    const std::string in = Write("stdin", input);
    const std::string line = "B='" + binary_ + "'; " + command + " < '" + in + "' > '" +
                             (dir_ / "out").string() + "' 2> '" + (dir_ / "err").string() + "'";
    RunResult run;
    const int raw = std::system(line.c_str());  // NOLINT(concurrency-mt-unsafe)
    run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    run.out = Slurp(dir_ / "out");
    run.err = Slurp(dir_ / "err");
    return run;
  }

  std::string name_;
  std::string binary_;
  std::filesystem::path dir_;
};

}  // namespace dbrunbook::testing
