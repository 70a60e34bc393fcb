// The Ceph cluster the ceph store tests run against: tests/support/ceph_server.py (`make test`
// starts one and sets SCORIA_TEST_CEPH_CONF; client.admin's keyring is next to the conf, and
// a user made here with Keyring(...) is found by the conf's $cluster.$name.keyring pattern).
// Without it, or under TSan (librados is not instrumented: see rbd_driver_test.cc), the tests
// skip, saying why. TestPool gives a test a pool of its own, removed when it ends.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace scoria::ceph_test {

inline const char* Conf() { return std::getenv("SCORIA_TEST_CEPH_CONF"); }

// Why the tests cannot run here, or "" when they can.
inline std::string SkipReason() {
#if defined(__SANITIZE_THREAD__)
  return "librados is not TSan-instrumented";
#endif
  if (Conf() == nullptr) {
    return "SCORIA_TEST_CEPH_CONF is not set: run under `make test`, or "
           "`/usr/bin/python3 tests/support/ceph_server.py run -- <this test>`";
  }
  return "";
}

// Runs a command (the ceph/rados CLIs as client.admin); its output with stderr. A non-zero
// exit fails the test unless `rc` takes it.
inline std::string Sh(const std::string& cmd, int* rc = nullptr) {
  const std::string full = "CEPH_CONF='" + std::string(Conf()) + "' " + cmd + " 2>&1";
  FILE* p = ::popen(full.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while (p != nullptr && (n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = p != nullptr ? ::pclose(p) : -1;
  if (rc != nullptr) {
    *rc = status;
  } else {
    EXPECT_EQ(status, 0) << cmd << ": " << out;
  }
  return out;
}

// A name of its own for each pool or user: engineers' test runs may share one cluster.
inline std::string Unique(const std::string& stem) {
  static std::atomic<int> n{0};
  return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

// Makes client.<name> with the caps (e.g. "mon 'allow r' osd 'allow rw pool=p'"), its keyring
// where the conf's keyring pattern finds it.
inline void MakeUser(const std::string& name, const std::string& caps) {
  const std::string keyring =
      std::filesystem::path(Conf()).parent_path().string() + "/ceph.client." + name + ".keyring";
  Sh("ceph auth get-or-create client." + name + " " + caps + " -o " + keyring);
}

inline void RemoveUser(const std::string& name) {
  int rc = 0;
  Sh("ceph auth rm client." + name, &rc);
  std::filesystem::remove(std::filesystem::path(Conf()).parent_path().string() + "/ceph.client." +
                          name + ".keyring");
}

class TestPool {
 public:
  explicit TestPool(const std::string& stem) : name_(Unique(stem)) {
    Sh("ceph osd pool create " + name_ + " 8 8 replicated");
    Sh("ceph osd pool application enable " + name_ + " scoria-backup");
  }
  ~TestPool() { Sh("ceph osd pool rm " + name_ + " " + name_ + " --yes-i-really-really-mean-it"); }
  TestPool(const TestPool&) = delete;
  TestPool& operator=(const TestPool&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

}  // namespace scoria::ceph_test

#define SCORIA_REQUIRE_CEPH()                                          \
  do {                                                                 \
    const std::string why = ::scoria::ceph_test::SkipReason();         \
    if (!why.empty()) GTEST_SKIP() << why;                             \
  } while (0)
