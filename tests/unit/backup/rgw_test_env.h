// The radosgw the object-store tests run against: tests/support/ceph_server.py with --rgw
// (`make test` starts one and sets SCORIA_TEST_RGW_URL and the S3/Swift credentials). Without
// it, these tests skip, naming how to run them.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace scoria::rgw_test {

struct Env {
  std::string url;  // "http://127.0.0.1:PORT"
  std::string s3_access_key, s3_secret_key;
  std::string swift_user, swift_key;
  bool ok() const { return !url.empty() && !s3_access_key.empty() && !swift_user.empty(); }
  std::string swift_auth_url() const { return url + "/auth/1.0"; }
};

inline Env GetEnv() {
  auto get = [](const char* n) {
    const char* v = std::getenv(n);
    return std::string(v ? v : "");
  };
  return {get("SCORIA_TEST_RGW_URL"), get("SCORIA_TEST_S3_ACCESS_KEY"),
          get("SCORIA_TEST_S3_SECRET_KEY"), get("SCORIA_TEST_SWIFT_USER"),
          get("SCORIA_TEST_SWIFT_KEY")};
}

// A bucket/container name of its own for each test: tests share one gateway.
inline std::string UniqueBucket(const std::string& stem) {
  static std::atomic<int> n{0};
  return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

inline constexpr const char* kSkip =
    "no radosgw: run under `make test`, or `/usr/bin/python3 tests/support/ceph_server.py run "
    "--rgw -- <this test>`, which set SCORIA_TEST_RGW_URL";

}  // namespace scoria::rgw_test

#define SCORIA_REQUIRE_RGW(env)                                 \
  do {                                                          \
    if (!(env).ok()) GTEST_SKIP() << ::scoria::rgw_test::kSkip; \
  } while (0)
