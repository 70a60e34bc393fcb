// The Block Storage API's HTTP/1.1 server: accepts connections and feeds requests to a Router.
//
// Built on Boost.Beast/Asio (confined to http_server.cc). `threads` io threads serve all
// connections; a connection's requests are handled one at a time, in order, on whichever io
// thread picks them up (keep-alive, no pipelining overlap). Handlers run on these threads and
// may block on the database: this is the control plane, and `threads` bounds how many requests
// run at once. Wire-level errors are answered here, before the router:
//   body larger than max_body_bytes       -> 413 overLimit, connection closed, body not read
//                                            (Content-Length is checked before reading it)
//   header block larger than max_header   -> 400 badRequest, closed
//   malformed HTTP / bad target encoding  -> 400 badRequest, closed
//   no complete request within idle_timeout -> connection closed silently
// "Expect: 100-continue" is answered so curl does not stall. One debug log line per request
// (method, path, status, microseconds, request id); bodies, queries and tokens are never logged.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http/router.h"
#include "common/status.h"

namespace scoria::api {

class HttpServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";  // IP address or host name to listen on
    uint16_t port = 8776;              // 0 = an ephemeral port, see port()
    int threads = 1;                   // io threads, >= 1
    size_t max_body_bytes = 1 << 20;
    size_t max_header_bytes = 64 << 10;
    std::chrono::milliseconds idle_timeout{60'000};  // per read/write
  };

  explicit HttpServer(Options options);
  ~HttpServer();  // Stop()s.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the io threads. `router` must outlive the server and not be
  // modified after this call. Errors: Unavailable naming "address:port" when the address does
  // not resolve or the port cannot be bound; FailedPrecondition if already started.
  Status Start(const Router& router);

  // The bound port (the real one when Options::port was 0); 0 before Start.
  uint16_t port() const;

  // Closes the listener and every connection and joins the io threads; a handler already
  // running finishes first (its response is dropped). Idempotent. Not from an io thread.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scoria::api
