// `dbrunbook watch` as a child process for tests: its stderr in a file, the API port read
// from its "API listening on 127.0.0.1:PORT" line, stopped with a signal of the test's choice
// (SIGTERM for a clean stop, SIGKILL for a crash), and killed if the test forgets.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dbrunbook::testing {

// The daemon as a child process, its stderr in a file.
class DaemonProcess {
 public:
  DaemonProcess(const std::string& binary, const std::vector<std::string>& args,
                const std::string& log_path, const std::string& home,
                const std::vector<std::pair<std::string, std::string>>& env = {})
      : log_path_(log_path) {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* log = freopen(log_path.c_str(), "a", stderr);
      (void)log;
      FILE* out = freopen("/dev/null", "w", stdout);
      (void)out;
      setenv("HOME", home.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
      unsetenv("XDG_STATE_HOME");       // NOLINT(concurrency-mt-unsafe)
      for (const auto& [name, value] : env) {
        setenv(name.c_str(), value.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
      }
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(binary.c_str()));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
  }
  ~DaemonProcess() {
    if (pid_ > 0) Signal(SIGKILL);
  }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Sends `signal` and waits for the process; its exit status (-signal when killed).
  int Signal(int signal) {
    if (pid_ <= 0) return exit_;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return exit_;
  }
  bool Alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      return false;
    }
    return true;
  }
  std::string Log() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // The API's port from the "API listening on 127.0.0.1:PORT" line.
  int WaitForPort(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::regex listening("API listening on 127\\.0\\.0\\.1:([0-9]+)");
    while (std::chrono::steady_clock::now() < deadline && Alive()) {
      std::smatch m;
      const std::string log = Log();
      if (std::regex_search(log, m, listening)) return std::stoi(m[1]);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int exit_ = -1;
};

}  // namespace dbrunbook::testing
