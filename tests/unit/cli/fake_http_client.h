// Test doubles for the CLI: FakeHttpClient answers scripted responses per "METHOD path" and
// records every request; FakeClock makes --wait instant. CliHarness runs RunCli against them
// and captures stdout, stderr and the exit code.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/http_client.h"
#include "cli/wait.h"

namespace scoria::cli::testing {

class FakeHttpClient : public HttpClient {
 public:
  // Queues an answer for `method path`; answers are served in order and the last one repeats.
  void On(const std::string& method, const std::string& path, int status,
          const nlohmann::json& body = nullptr) {
    OnText(method, path, status, body.is_null() ? "" : body.dump());
  }
  void OnText(const std::string& method, const std::string& path, int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    routes_[method + " " + path].push_back(std::move(r));
  }
  // Every request fails as if the endpoint were unreachable.
  void FailTransport(std::string message) { transport_error_ = std::move(message); }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    // The version document the client reads once to negotiate the microversion is kept apart,
    // so tests index `requests` by the calls their command makes.
    (request.method == "GET" && request.path == "/" ? version_probes : requests)
        .push_back(request);
    if (transport_error_) return Unavailable(*transport_error_);
    auto it = routes_.find(request.method + " " + request.path);
    if (it == routes_.end() || it->second.empty()) {
      HttpResponse r;
      r.status = 404;
      r.body =
          nlohmann::json{
              {"itemNotFound",
               {{"code", 404},
                {"message", "fake: no route for " + request.method + " " + request.path}}}}
              .dump();
      return r;
    }
    HttpResponse r = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return r;
  }

  // Requests with this method and path, in order.
  std::vector<HttpRequest> Find(const std::string& method, const std::string& path) const {
    std::vector<HttpRequest> out;
    for (const auto& r : requests) {
      if (r.method == method && r.path == path) out.push_back(r);
    }
    return out;
  }

  std::vector<HttpRequest> requests;
  std::vector<HttpRequest> version_probes;  // GET / (microversion negotiation)

 private:
  std::map<std::string, std::deque<HttpResponse>> routes_;
  std::optional<std::string> transport_error_;
};

class FakeClock : public Clock {
 public:
  double Now() override { return now; }
  void Sleep(double seconds) override {
    now += seconds;
    ++sleeps;
  }
  double now = 1000;
  int sleeps = 0;
};

// Forwards to a fake owned by the test, so RunCli can own "its" transport.
class ForwardingHttpClient : public HttpClient {
 public:
  explicit ForwardingHttpClient(HttpClient& target) : target_(target) {}
  Result<HttpResponse> Send(const HttpRequest& request) override { return target_.Send(request); }

 private:
  HttpClient& target_;
};

struct CliRun {
  int code = -1;
  std::string out, err;
};

inline std::string QueryValue(const HttpRequest& r, const std::string& key) {
  for (const auto& [k, v] : r.query) {
    if (k == key) return v;
  }
  return "<absent>";
}

inline nlohmann::json BodyOf(const HttpRequest& r) { return nlohmann::json::parse(r.body); }

constexpr char kVolId[] = "11111111-2222-3333-4444-555555555555";
constexpr char kVolId2[] = "66666666-2222-3333-4444-555555555555";
constexpr char kTypeId[] = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";

inline nlohmann::json Volume(const std::string& id, const std::string& name,
                             const std::string& status = "available", int size = 1) {
  return {{"id", id},
          {"name", name},
          {"status", status},
          {"size", size},
          {"volume_type", "__DEFAULT__"},
          {"bootable", "false"},
          {"attachments", nlohmann::json::array()},
          {"metadata", nlohmann::json::object()},
          {"links", nlohmann::json::array()}};
}

class CliHarness : public ::testing::Test {
 protected:
  CliRun Run(std::vector<std::string> args) {
    std::ostringstream out, err;
    Environment env;
    env.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_vars.find(name);
      if (it == env_vars.end()) return std::nullopt;
      return it->second;
    };
    env.out = &out;
    env.err = &err;
    env.err_is_tty = tty;
    env.make_http = [this](const std::string& endpoint) -> std::unique_ptr<HttpClient> {
      endpoint_used = endpoint;
      return std::make_unique<ForwardingHttpClient>(http);
    };
    env.clock = &clock;
    CliRun run;
    run.code = RunCli(args, env);
    run.out = out.str();
    run.err = err.str();
    return run;
  }

  // Makes `id` resolvable by id and, with all_tenants=1&name=, by its name.
  void AddVolume(const nlohmann::json& v) {
    http.On("GET", "/volumes/" + v["id"].get<std::string>(), 200, {{"volume", v}});
    http.On("GET", "/volumes/detail", 200, {{"volumes", {v}}});
  }

  FakeHttpClient http;
  FakeClock clock;
  std::map<std::string, std::string> env_vars;
  std::string endpoint_used;
  bool tty = false;
};

}  // namespace scoria::cli::testing
