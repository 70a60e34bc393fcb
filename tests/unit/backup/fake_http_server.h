// A tiny HTTP/1.1 server on 127.0.0.1 for the object stores' fault paths only (the stores'
// behaviour is tested against the real radosgw): it answers each request with the next status
// of a script (then `fallback`), with an empty body (or SetOkBody's on 2xx), counts the
// requests and keeps their request lines. Connection: close on every answer, so each request
// is one connection and the count is exact.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace scoria::backup::testing {

class FakeHttpServer {
 public:
  FakeHttpServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd_, 16);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeHttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The next answers, in order; then `fallback` for every request.
  void Script(std::deque<int> statuses, int fallback) {
    std::lock_guard l(mu_);
    script_ = std::move(statuses);
    fallback_ = fallback;
  }
  int requests() const { return requests_; }
  // Headers added to every 2xx answer (a Swift auth reply needs X-Storage-Url/X-Auth-Token).
  void SetOkHeaders(std::string h) {
    std::lock_guard l(mu_);
    ok_headers_ = std::move(h);
  }
  void SetOkBody(std::string b) {
    std::lock_guard l(mu_);
    ok_body_ = std::move(b);
  }
  // "PUT /bucket/key?partNumber=1&uploadId=u HTTP/1.1", in arrival order.
  std::vector<std::string> request_lines() const {
    std::lock_guard l(mu_);
    return lines_;
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string req;
      char buf[65536];
      size_t header_end = std::string::npos;
      while (header_end == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof(buf));
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        header_end = req.find("\r\n\r\n");
      }
      // Read the body too, or closing with unread data resets the connection before the
      // client reads the answer.
      size_t cl = req.find("Content-Length: ");
      if (cl == std::string::npos) cl = req.find("content-length: ");
      if (header_end != std::string::npos && cl != std::string::npos) {
        size_t want = std::stoul(req.substr(cl + 16)) + header_end + 4;
        while (req.size() < want) {
          ssize_t n = ::read(c, buf, sizeof(buf));
          if (n <= 0) break;
          req.append(buf, static_cast<size_t>(n));
        }
      }
      int status;
      std::string extra, body;
      {
        std::lock_guard l(mu_);
        ++requests_;
        lines_.push_back(req.substr(0, req.find("\r\n")));
        status = script_.empty() ? fallback_ : script_.front();
        if (!script_.empty()) script_.pop_front();
        if (status < 300) {
          extra = ok_headers_;
          body = ok_body_;
        }
      }
      std::string ans = "HTTP/1.1 " + std::to_string(status) +
                        " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
                        "Connection: close\r\n\r\n" + body;
      (void)!::write(c, ans.data(), ans.size());
      ::close(c);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::deque<int> script_;
  std::vector<std::string> lines_;
  std::string ok_body_;
  int fallback_ = 503;
  std::atomic<int> requests_{0};
  std::string ok_headers_;
};

}  // namespace scoria::backup::testing
