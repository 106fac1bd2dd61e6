#include "support/http_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/strings.h"

namespace dbrunbook::testing {

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "HttpTestServer: %s failed: %s\n", what, std::strerror(errno));
  std::abort();
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<std::string> RecordedRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (core::EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

std::string RecordedRequest::Path() const { return target.substr(0, target.find('?')); }

ScriptedResponse ScriptedResponse::Text(int status, std::string body, HeaderList headers) {
  ScriptedResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

HttpTestServer::HttpTestServer() : HttpTestServer(Handler{}) {}

HttpTestServer::HttpTestServer(Handler handler) : HttpTestServer(0, std::move(handler)) {}

HttpTestServer::HttpTestServer(uint16_t port, Handler handler) : handler_(std::move(handler)) {
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) Die("pipe2");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) Die("socket");
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);  // 0: the kernel picks a free port, so tests never collide
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("bind");
  if (::listen(listen_fd_, 64) != 0) Die("listen");
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Die("getsockname");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

HttpTestServer::~HttpTestServer() { Stop(); }

std::string HttpTestServer::BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpTestServer::SetHandler(Handler handler) {
  std::lock_guard lock(mutex_);
  handler_ = std::move(handler);
}

void HttpTestServer::Enqueue(ScriptedResponse response) {
  std::lock_guard lock(mutex_);
  queue_.push_back(std::move(response));
}

std::vector<RecordedRequest> HttpTestServer::Requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool HttpTestServer::WaitForRequests(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

void HttpTestServer::Stop() {
  if (stopping_.exchange(true)) return;
  const char byte = 'x';
  // One byte left unread keeps the pipe readable, so every poll() that watches it wakes up.
  if (::write(wake_pipe_[1], &byte, 1) != 1) Die("write");
  acceptor_.join();
  // The acceptor was the only thread adding connections; it has finished.
  for (auto& thread : connections_) thread.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

bool HttpTestServer::Sleep(std::chrono::milliseconds d) {
  pollfd wake{wake_pipe_[0], POLLIN, 0};
  return ::poll(&wake, 1, static_cast<int>(d.count())) == 0;
}

void HttpTestServer::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      Die("poll");
    }
    if (fds[1].revents != 0) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int connection = ++accepted_;
    std::lock_guard lock(mutex_);
    connections_.emplace_back([this, fd, connection] { Serve(fd, connection); });
  }
}

ScriptedResponse HttpTestServer::NextResponse(const RecordedRequest& request) {
  Handler handler;
  {
    std::lock_guard lock(mutex_);
    if (!handler_) {
      if (queue_.empty()) return ScriptedResponse::Text(500, "no scripted response\n");
      ScriptedResponse next = std::move(queue_.front());
      queue_.pop_front();
      return next;
    }
    handler = handler_;
  }
  return handler(request);  // outside the lock: it may take time or call back into the server
}

void HttpTestServer::Serve(int fd, int connection) {
  std::string buffer;
  // Reads more bytes into `buffer`; false on EOF, error or Stop().
  const auto read_more = [&]() {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    while (true) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      if (fds[1].revents != 0) return false;
      char chunk[16384];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
      return true;
    }
  };
  while (true) {
    size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more()) {
        ::close(fd);
        return;
      }
    }
    RecordedRequest request;
    request.connection = connection;
    const std::string_view head(buffer.data(), head_end);
    size_t line_end = head.find("\r\n");
    const std::string_view request_line = head.substr(0, line_end);
    const auto parts = core::Split(request_line, ' ');
    if (parts.size() == 3) {
      request.method = std::string(parts[0]);
      request.target = std::string(parts[1]);
      request.version = std::string(parts[2]);
    }
    while (line_end != std::string_view::npos && line_end < head.size()) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string_view line = head.substr(
          start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      request.headers.emplace_back(std::string(core::Trim(line.substr(0, colon))),
                                   std::string(core::Trim(line.substr(colon + 1))));
    }
    buffer.erase(0, head_end + 4);
    const bool chunked = request.Header("Transfer-Encoding").has_value();
    const size_t length =
        core::ParseUint64(request.Header("Content-Length").value_or("0")).value_or(0);
    while (!chunked && buffer.size() < length) {
      if (!read_more()) {
        ::close(fd);
        return;
      }
    }
    if (!chunked) {
      request.body = buffer.substr(0, length);
      buffer.erase(0, length);
    }
    const bool client_closes =
        core::EqualsIgnoreCase(request.Header("Connection").value_or(""), "close") ||
        request.version == "HTTP/1.0";
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    changed_.notify_all();

    ScriptedResponse response = chunked ? ScriptedResponse::Text(501,
                                                                 "chunked bodies are not "
                                                                 "supported\n")
                                        : NextResponse(request);
    if (chunked) response.close_after = true;
    if (response.delay.count() > 0 && !Sleep(response.delay)) {
      ::close(fd);
      return;
    }
    if (response.close_without_answer) {
      ::close(fd);
      return;
    }
    const bool close = response.close_after || client_closes;
    std::string out =
        "HTTP/1.1 " + std::to_string(response.status) + " " + Reason(response.status) + "\r\n";
    for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    if (close) out += "Connection: close\r\n";
    out += "\r\n";
    if (request.method != "HEAD") out += response.body;
    if (!SendAll(fd, out) || close) {
      ::close(fd);
      return;
    }
  }
}

}  // namespace dbrunbook::testing
