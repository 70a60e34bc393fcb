#include "api/http/http_server.h"

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include "api/http/fault.h"
#include "common/ids.h"

namespace scoria::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// After an error answer we close without reading the rest of the request. Closing a socket with
// unread input makes the kernel send RST, which can destroy the answer in flight; so shut down
// our side and drain for a short while first (a "lingering close", as Apache and nginx do).
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr size_t kLingerMaxBytes = 4 << 20;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Router& router, const HttpServer::Options& options)
      : stream_(std::move(socket)), router_(router), options_(options) {}

  void Run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::ReadHeader, shared_from_this()));
  }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    parser_->body_limit(options_.max_body_bytes);
    stream_.expires_after(options_.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    const auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue") && !parser_->is_done()) {
      continue_ = http::response<http::empty_body>(http::status::continue_, req.version());
      stream_.expires_after(options_.idle_timeout);
      http::async_write(stream_, continue_, [self = shared_from_this()](beast::error_code ec,
                                                                         size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(options_.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRequest, shared_from_this()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return WriteError(FaultResponse(413, "Request body is larger than " +
                                               std::to_string(options_.max_body_bytes) +
                                               " bytes."));
    }
    if (ec == http::error::header_limit) {
      return WriteError(FaultResponse(400, "Request header block is too large."));
    }
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return WriteError(FaultResponse(400, "Malformed HTTP request."));
    }
    // end of stream, timeout, reset, abort: nobody to answer.
    Close();
  }

  void OnRequest(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    auto start = std::chrono::steady_clock::now();
    http::request<http::string_body> wire = parser_->release();
    bool keep_alive = wire.keep_alive();
    unsigned version = wire.version();

    NameValues headers;
    for (const auto& field : wire) {
      headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    auto req = MakeRequest(std::string(wire.method_string()), std::string(wire.target()),
                           std::move(headers), std::move(wire.body()));
    Response resp;
    std::string method = std::string(wire.method_string());
    std::string path = std::string(wire.target().substr(0, wire.target().find('?')));
    if (req.ok()) {
      path = req->path;
      resp = router_.Dispatch(*req);
    } else {
      resp = FaultResponse(req.status());
      std::string rid = NewRequestId();
      resp.SetHeader("x-openstack-request-id", rid);
      resp.SetHeader("x-compute-request-id", rid);
      keep_alive = false;
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    spdlog::debug("{} {} {} {}us {}", method, path, resp.status, us,
                  resp.Header("x-openstack-request-id").value_or(""));
    Write(std::move(resp), version, keep_alive);
  }

  void WriteError(Response resp) {
    std::string rid = NewRequestId();
    resp.SetHeader("x-openstack-request-id", rid);
    resp.SetHeader("x-compute-request-id", rid);
    spdlog::debug("- - {} (wire error) {}", resp.status, rid);
    Write(std::move(resp), 11, /*keep_alive=*/false);
  }

  void Write(Response resp, unsigned version, bool keep_alive) {
    response_ = {};
    response_.version(version);
    response_.result(static_cast<unsigned>(resp.status));
    for (auto& [name, value] : resp.headers) response_.insert(name, value);
    response_.body() = std::move(resp.body);
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    stream_.expires_after(options_.idle_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        if (ec) return self->Close();
                        if (!keep_alive) return self->LingeringClose();
                        self->ReadHeader();
                      });
  }

  void LingeringClose() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    linger_.resize(64 << 10);
    lingered_ = 0;
    stream_.expires_after(kLingerTimeout);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(
        asio::buffer(linger_), [self = shared_from_this()](beast::error_code ec, size_t n) {
          self->lingered_ += n;
          if (ec || self->lingered_ > kLingerMaxBytes) return self->Close();
          self->Drain();
        });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const Router& router_;
  const HttpServer::Options& options_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> continue_;
  http::response<http::string_body> response_;
  std::vector<char> linger_;
  size_t lingered_ = 0;
};

}  // namespace

struct HttpServer::Impl {
  Options options;
  const Router* router = nullptr;
  std::unique_ptr<asio::io_context> ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> retry_timer;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};

  void Accept() {
    acceptor->async_accept(asio::make_strand(*ioc), [this](beast::error_code ec,
                                                            tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (ec) {
        // Typically EMFILE: back off instead of spinning on the failing accept.
        spdlog::warn("accept on port {} failed: {}", port.load(), ec.message());
        retry_timer->expires_after(std::chrono::milliseconds(100));
        retry_timer->async_wait([this](beast::error_code ec) {
          if (!ec) Accept();
        });
        return;
      }
      std::make_shared<Session>(std::move(socket), *router, options)->Run();
      Accept();
    });
  }
};

HttpServer::HttpServer(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.threads < 1) impl_->options.threads = 1;
}

HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const { return impl_->port.load(); }

Status HttpServer::Start(const Router& router) {
  Impl& s = *impl_;
  if (s.ioc) return FailedPrecondition("HTTP server already started");
  std::string where = s.options.address + ":" + std::to_string(s.options.port);
  auto ioc = std::make_unique<asio::io_context>(s.options.threads);

  beast::error_code ec;
  tcp::resolver resolver(*ioc);
  auto endpoints = resolver.resolve(s.options.address, std::to_string(s.options.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Unavailable("cannot listen on " + where + ": " +
                       (ec ? ec.message() : std::string("address does not resolve")));
  }
  // The acceptor lives on a strand so Stop() can close it while an accept completes.
  auto acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(*ioc));
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  if (acceptor->open(endpoint.protocol(), ec) ||
      acceptor->set_option(asio::socket_base::reuse_address(true), ec) ||
      acceptor->bind(endpoint, ec) || acceptor->listen(asio::socket_base::max_listen_connections,
                                                       ec)) {
    return Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  s.port = acceptor->local_endpoint(ec).port();
  s.router = &router;
  s.retry_timer = std::make_unique<asio::steady_timer>(acceptor->get_executor());
  s.ioc = std::move(ioc);
  s.acceptor = std::move(acceptor);
  asio::dispatch(s.acceptor->get_executor(), [&s] { s.Accept(); });
  for (int i = 0; i < s.options.threads; ++i) {
    s.threads.emplace_back([&s] {
      for (;;) {
        try {
          s.ioc->run();
          return;
        } catch (const std::exception& e) {
          // Nothing here should throw; if it does, keep serving the other connections.
          spdlog::error("HTTP io thread caught: {}", e.what());
        }
      }
    });
  }
  spdlog::info("API listening on {}:{}", s.options.address, s.port.load());
  return Status::Ok();
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (!s.ioc) return;
  // Close the listener on its strand, then stop the loop: running handlers finish, pending
  // operations are abandoned, and destroying the io_context destroys every Session (closing
  // its socket).
  asio::post(s.acceptor->get_executor(), [&s] {
    beast::error_code ignored;
    s.acceptor->close(ignored);
    s.retry_timer->cancel();
  });
  s.ioc->stop();
  for (std::thread& t : s.threads) t.join();
  s.threads.clear();
  s.retry_timer.reset();
  s.acceptor.reset();
  s.ioc.reset();
  s.router = nullptr;
}

}  // namespace scoria::api
