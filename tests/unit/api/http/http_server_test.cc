// Starts the real server on an ephemeral port and talks raw HTTP/1.1 to it over POSIX sockets,
// so malformed and oversized requests can be sent exactly as written.
#include "api/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "api/http/fault.h"

namespace scoria::api {
namespace {

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

class Conn {
 public:
  explicit Conn(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Conn() { ::close(fd_); }
  bool connected() const { return connected_; }

  void Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // One response; status 0 if the connection closed or timed out first.
  RawResponse Read() {
    RawResponse r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return r;
    }
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    r.status = std::stoi(r.head.substr(9, 3));
    size_t length = 0;
    std::string lower = r.head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t cl = lower.find("\r\ncontent-length:");
    if (cl != std::string::npos) length = std::stoul(r.head.substr(cl + 17));
    while (buf_.size() < length) {
      if (!Fill()) break;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, std::min(length, buf_.size()));
    return r;
  }

  // True if the peer closed the connection (recv returns 0 or a reset) within the timeout.
  bool PeerClosed() {
    while (true) {
      char c[4096];
      ssize_t n = ::recv(fd_, c, sizeof c, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool Fill() {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

std::string Get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: a:p\r\n" +
         std::string(extra) + "\r\n";
}

std::string Post(std::string_view target, std::string_view body) {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: h\r\nX-Auth-Token: a:p\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

bool HasHeader(const RawResponse& r, std::string_view needle) {
  std::string lower = r.head;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find(needle) != std::string::npos;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("POST", "/echo", [](Request& req, const PathParams&) {
      auto body = ParseJsonBody(req);
      if (!body.ok()) return FaultResponse(body.status());
      return JsonResponse(200, *body);
    });
    router_.Add("GET", "/throw", [](Request&, const PathParams&) -> Response {
      throw std::runtime_error("boom");
    });
    router_.Add("GET", "/slow", [this](Request&, const PathParams&) {
      slow_started_ = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      return EmptyResponse(204);
    });
    HttpServer::Options options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    options.max_body_bytes = 1024;
    server_ = std::make_unique<HttpServer>(options);
    ASSERT_TRUE(server_->Start(router_).ok());
    ASSERT_NE(server_->port(), 0);
  }

  void TearDown() override { server_->Stop(); }

  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> slow_started_{false};
};

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  Conn c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send(Get("/"));
  RawResponse r1 = c.Read();
  EXPECT_EQ(r1.status, 300);
  EXPECT_NE(r1.body.find("\"min_version\":\"3.0\""), std::string::npos) << r1.body;
  EXPECT_TRUE(HasHeader(r1, "x-openstack-request-id: req-"));
  c.Send(Get("/v3/nothing/here"));
  RawResponse r2 = c.Read();
  EXPECT_EQ(r2.status, 404);
  EXPECT_NE(r2.body.find("itemNotFound"), std::string::npos);
  EXPECT_TRUE(HasHeader(r2, "openstack-api-version: volume 3.0"));
  // Pipelined: both requests written before either answer is read.
  c.Send(Get("/healthcheck") + Get("/v3/"));
  EXPECT_EQ(c.Read().body, "OK");
  EXPECT_EQ(c.Read().status, 200);
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  Conn c(server_->port());
  c.Send(Get("/", "Connection: close\r\n"));
  EXPECT_EQ(c.Read().status, 300);
  EXPECT_TRUE(c.PeerClosed());
}

TEST_F(HttpServerTest, OversizedBodyIs413WithoutReadingIt) {
  Conn c(server_->port());
  c.Send("POST /v3/echo HTTP/1.1\r\nHost: h\r\nX-Auth-Token: a:p\r\n"
         "Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n");
  c.Send(std::string(4096, 'x'));
  RawResponse r = c.Read();
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("\"overLimit\""), std::string::npos) << r.body;
  EXPECT_TRUE(c.PeerClosed());
}

TEST_F(HttpServerTest, OversizedChunkedBodyIs413) {
  Conn c(server_->port());
  std::string chunk(2000, 'x');
  c.Send("POST /v3/echo HTTP/1.1\r\nHost: h\r\nX-Auth-Token: a:p\r\n"
         "Transfer-Encoding: chunked\r\n\r\n7d0\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(c.Read().status, 413);
}

TEST_F(HttpServerTest, ExpectContinueIsAnswered) {
  Conn c(server_->port());
  std::string body = R"({"a": 1})";
  c.Send("POST /v3/echo HTTP/1.1\r\nHost: h\r\nX-Auth-Token: a:p\r\nExpect: 100-continue\r\n"
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(c.Read().status, 100);
  c.Send(body);
  RawResponse r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"a":1})");
}

TEST_F(HttpServerTest, MalformedRequestIs400AndClosed) {
  for (const char* bad : {"GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n",
                          "GET /v3/%zz HTTP/1.1\r\nHost: h\r\n\r\n",
                          "GET / HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    SCOPED_TRACE(bad);
    Conn c(server_->port());
    c.Send(bad);
    RawResponse r = c.Read();
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("badRequest"), std::string::npos) << r.body;
    EXPECT_TRUE(c.PeerClosed());
  }
}

TEST_F(HttpServerTest, HugeHeaderIs400) {
  Conn c(server_->port());
  c.Send("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n");
  EXPECT_EQ(c.Read().status, 400);
}

TEST_F(HttpServerTest, MalformedJsonIs400) {
  Conn c(server_->port());
  c.Send(Post("/v3/echo", "{nope"));
  RawResponse r = c.Read();
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Malformed request body"), std::string::npos) << r.body;
  EXPECT_TRUE(HasHeader(r, "x-compute-request-id: req-"));
  c.Send(Post("/v3/echo", R"({"volume": {"size": 1}})"));
  r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(HasHeader(r, "content-type: application/json"));
}

TEST_F(HttpServerTest, ThrowingHandlerIs500AndServerKeepsServing) {
  Conn c(server_->port());
  c.Send(Get("/v3/throw"));
  RawResponse r = c.Read();
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("computeFault"), std::string::npos);
  c.Send(Get("/v3/"));
  EXPECT_EQ(c.Read().status, 200);
  Conn other(server_->port());
  other.Send(Get("/healthcheck"));
  EXPECT_EQ(other.Read().status, 200);
}

TEST_F(HttpServerTest, BlockingHandlerDoesNotBlockOtherConnections) {
  Conn slow(server_->port());
  slow.Send(Get("/v3/slow"));
  while (!slow_started_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto start = std::chrono::steady_clock::now();
  Conn fast(server_->port());
  fast.Send(Get("/healthcheck"));
  EXPECT_EQ(fast.Read().status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(400));
  EXPECT_EQ(slow.Read().status, 204);
}

TEST_F(HttpServerTest, StopClosesIdleConnections) {
  Conn c(server_->port());
  c.Send(Get("/"));
  EXPECT_EQ(c.Read().status, 300);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(c.PeerClosed());
  server_->Stop();  // idempotent
}

TEST(HttpServerStartTest, BusyPortErrorNamesAddress) {
  Router router;
  HttpServer::Options options;
  options.address = "127.0.0.1";
  options.port = 0;
  HttpServer first(options);
  ASSERT_TRUE(first.Start(router).ok());
  options.port = first.port();
  HttpServer second(options);
  Status st = second.Start(router);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
      << st.message();
  EXPECT_FALSE(first.Start(router).ok());  // already started
}

TEST(HttpServerStartTest, BadAddress) {
  Router router;
  HttpServer::Options options;
  options.address = "999.1.1.1";
  options.port = 0;
  HttpServer server(options);
  EXPECT_FALSE(server.Start(router).ok());
}

}  // namespace
}  // namespace scoria::api
