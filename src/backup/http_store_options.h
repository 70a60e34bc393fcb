// HttpStoreOptions: how the object stores (s3_store.h, swift_store.h) talk HTTP: retries with
// exponential back-off, timeouts, TLS checks and the connection pool. The retry rule is
// object_http.h's: transport failures and 5xx answers are retried, `attempts` tries in all,
// sleeping backoff_initial_ms (with jitter), then twice that, ... at most backoff_max_ms.
#pragma once

#include <string>

namespace scoria::backup {

struct HttpStoreOptions {
  int attempts = 4;                  // total tries of one request (>= 1)
  int backoff_initial_ms = 500;      // sleep before the second try; doubled each time
  int backoff_max_ms = 8000;         // cap of one sleep
  long connect_timeout_ms = 10'000;  // TCP (and TLS) connect
  long stall_timeout_s = 60;         // abort a transfer that moves no byte for this long
  bool verify_tls = true;            // check the server's certificate (https)
  std::string ca_file;               // CA bundle for https; "" = the system's
  int max_connections = 10;          // idle connections kept for reuse
};

}  // namespace scoria::backup
