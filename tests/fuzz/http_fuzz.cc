// libFuzzer target for the API's request path (tests/fuzz/run.sh): raw HTTP/1.1 bytes go
// through Beast's request parser (what HttpServer uses), MakeRequest (target splitting and
// percent-decoding), the Router (version negotiation, project routing, method matching) and
// the real resource handlers over an in-memory SQLite database.
//
// Input: one HTTP request as it would arrive on the socket. Inputs Beast rejects end there.
// Invariants checked on every request that reaches the router:
//   - no crash, no sanitizer report, no exception escaping Dispatch;
//   - no 500: bad input is the client's error (4xx), never an internal one;
//   - every JSON response body parses, and every error body has Cinder's shape
//     {"<kind>": {"code": N, "message": "..."}} with code == the HTTP status.
// Requests that would wait for a volume service (the attachment exports, which poll up to
// 30 s for a task no worker runs here) are skipped.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "api/http/http.h"
#include "api/http/router.h"
#include "api/resources/api_env.h"
#include "common/config.h"
#include "db/database.h"

namespace http = boost::beast::http;
using namespace scoria;

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

struct World {
  Config config;
  std::unique_ptr<db::Database> db;
  api::Router router;
};

World* MakeWorld() {
  spdlog::set_level(spdlog::level::off);
  auto* w = new World;
  auto cfg = ParseConfig(
      "[DEFAULT]\nstate_path = /tmp/scoria-http-fuzz\nenabled_backends = b1\n"
      "[b1]\nvolume_driver = file\nvolume_backend_name = b1\n"
      "file_volume_dir = /tmp/scoria-http-fuzz/b1\n",
      "http_fuzz.conf");
  if (!cfg.ok()) {
    fprintf(stderr, "http_fuzz: %s\n", cfg.status().ToString().c_str());
    abort();
  }
  w->config = std::move(*cfg);
  auto db = db::OpenDatabase("sqlite://");
  Check(db.ok());
  w->db = std::move(*db);
  Check(w->db->Migrate().ok());
  api::RegisterAllRoutes(w->router, api::ApiEnv{*w->db, w->config});
  return w;
}

bool WouldWaitForAVolumeService(const std::string& target, const std::string& body) {
  return target.find("attachments") != std::string::npos ||
         body.find("os-initialize_connection") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = MakeWorld();
  http::request_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  parser.header_limit(16 * 1024);
  boost::beast::error_code ec;
  parser.eager(true);
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  auto& msg = parser.get();
  api::NameValues headers;
  for (const auto& f : msg) headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  std::string target(msg.target());
  if (WouldWaitForAVolumeService(target, msg.body())) return 0;
  auto req = api::MakeRequest(std::string(msg.method_string()), target, std::move(headers),
                              msg.body());
  if (!req.ok()) return 0;  // the server answers 400 itself
  api::Response resp = world->router.Dispatch(*req);
  Check(resp.status >= 200 && resp.status < 600);
  Check(resp.status != 500);
  auto type = resp.Header("Content-Type");
  if (type && type->find("json") != std::string::npos && !resp.body.empty()) {
    auto body = nlohmann::json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
    Check(!body.is_discarded());
    if (resp.status >= 400) {
      Check(body.is_object() && body.size() == 1);
      const auto& fault = body.begin().value();
      Check(fault.is_object() && fault.contains("code") && fault.contains("message"));
      Check(fault["code"] == resp.status);
    }
  }
  return 0;
}
