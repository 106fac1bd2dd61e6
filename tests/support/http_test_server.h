// A real HTTP/1.1 server on 127.0.0.1 for tests of code that speaks HTTP (the cloud transport,
// instance metadata, webhooks and chat channels).
//
// It listens on an ephemeral port chosen by the kernel, serves each accepted connection on its
// own thread, keeps connections alive as HTTP/1.1 does (so tests can assert connection reuse by
// counting accepted connections), and records every request it reads. Answers come from a
// handler callback if one is set, else from a queue of scripted responses (served in order; when
// the queue is empty it answers 500 "no scripted response"). A scripted response can be
// delayed (to provoke client timeouts), close the connection instead of answering, or close it
// after answering.
//
// Request bodies are read by Content-Length; chunked request bodies are answered 501. Requests
// and responses are small: everything is buffered in memory.
//
// Thread-safety: all public methods may be called from any thread while the server runs. The
// handler is called on connection threads, possibly concurrently. The destructor (or Stop)
// unblocks delayed responses, closes every connection and joins all threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace dbrunbook::testing {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RecordedRequest {
  std::string method;
  std::string target;   // as on the request line: "/path?query"
  std::string version;  // "HTTP/1.1"
  HeaderList headers;   // in order, names as sent
  std::string body;
  int connection = 0;  // 1 for the first accepted connection, 2 for the next...

  std::optional<std::string> Header(std::string_view name) const;  // case-insensitive
  std::string Path() const;                                        // target without the query
};

struct ScriptedResponse {
  int status = 200;
  HeaderList headers;  // Content-Length is added; Connection: close when close_after
  std::string body;
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool close_without_answer = false;   // read the request, then close the connection
  bool close_after = false;            // answer, then close the connection

  static ScriptedResponse Text(int status, std::string body, HeaderList headers = {});
};

class HttpTestServer {
 public:
  using Handler = std::function<ScriptedResponse(const RecordedRequest&)>;

  // Binds 127.0.0.1:0 and starts serving; aborts the test binary (with a message) when the
  // socket cannot be set up, since no test can run without it.
  HttpTestServer();
  explicit HttpTestServer(Handler handler);
  // On a given port (0: any), e.g. to bring a receiver back where a stopped one listened.
  HttpTestServer(uint16_t port, Handler handler);
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  uint16_t port() const { return port_; }
  std::string BaseUrl() const;  // "http://127.0.0.1:PORT"

  void SetHandler(Handler handler);
  void Enqueue(ScriptedResponse response);

  std::vector<RecordedRequest> Requests() const;
  int AcceptedConnections() const { return accepted_.load(); }
  // Waits until `n` requests have been recorded or `timeout` passes; returns whether they were.
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout) const;

  // Stops accepting, wakes delayed answers, closes connections and joins threads. Idempotent.
  void Stop();

 private:
  void AcceptLoop();
  void Serve(int fd, int connection);
  ScriptedResponse NextResponse(const RecordedRequest& request);
  // Sleeps for `d` unless Stop() is called; returns false when stopped.
  bool Sleep(std::chrono::milliseconds d);

  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};  // written by Stop() to wake poll() everywhere
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  Handler handler_;
  std::deque<ScriptedResponse> queue_;
  std::vector<RecordedRequest> requests_;
  std::vector<std::thread> connections_;  // added by the acceptor only
};

}  // namespace dbrunbook::testing
