// The NFS server the tests run against: tests/support/nfs_server.py (`make test` starts it and
// sets SCORIA_TEST_NFS_*). Without it, NFS tests skip, naming how to run them.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace scoria::nfs_test {

inline std::vector<std::string> SplitComma(const char* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  std::string s(v);
  size_t start = 0;
  while (start <= s.size()) {
    size_t c = s.find(',', start);
    if (c == std::string::npos) c = s.size();
    if (c > start) out.push_back(s.substr(start, c - start));
    start = c + 1;
  }
  return out;
}

struct Env {
  std::vector<std::string> shares;       // "127.0.0.1:/export1", ...
  std::vector<std::string> export_dirs;  // their local directories
  std::string mount_options;             // "port=N,mountport=M"
  std::string small_share;               // 32 MiB export, or ""
  std::string small_dir;
  bool ok() const { return !shares.empty() && shares.size() == export_dirs.size(); }
};

inline Env GetEnv() {
  Env e;
  e.shares = SplitComma(std::getenv("SCORIA_TEST_NFS_SHARES"));
  e.export_dirs = SplitComma(std::getenv("SCORIA_TEST_NFS_EXPORT_DIRS"));
  if (const char* m = std::getenv("SCORIA_TEST_NFS_MOUNT_OPTIONS")) e.mount_options = m;
  if (const char* s = std::getenv("SCORIA_TEST_NFS_SMALL_SHARE")) e.small_share = s;
  if (const char* d = std::getenv("SCORIA_TEST_NFS_SMALL_DIR")) e.small_dir = d;
  return e;
}

inline constexpr const char* kSkip =
    "no NFS server: run under `make test`, or `/usr/bin/python3 tests/support/nfs_server.py run "
    "-- <this test>`, which set SCORIA_TEST_NFS_SHARES";

}  // namespace scoria::nfs_test

#define SCORIA_REQUIRE_NFS(env)                                 \
  do {                                                          \
    if (!(env).ok()) GTEST_SKIP() << ::scoria::nfs_test::kSkip; \
  } while (0)
