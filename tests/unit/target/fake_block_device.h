// FakeBlockDevice: an in-memory volume::BlockDevice for the SCSI tests. Records every call
// (so tests can see FUA and flushes reach the device), can fail chosen operations, and can hold
// completions until the test releases them (to test ordering, e.g. COMPARE AND WRITE gating).
#pragma once

#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "volume/block_device.h"

namespace scoria::target::testing {

class FakeBlockDevice : public volume::BlockDevice {
 public:
  struct Call {
    std::string op;  // "read", "write", "flush", "discard", "zeroes"
    uint64_t offset = 0;
    uint64_t length = 0;
    bool flag = false;  // fua for write, unmap for zeroes
  };

  explicit FakeBlockDevice(uint64_t size, uint32_t block_size = 512)
      : data_(size, std::byte{0}), block_size_(block_size) {}

  uint64_t Size() const override { return size_override_ ? size_override_ : data_.size(); }
  uint32_t BlockSize() const override { return block_size_; }
  Status Refresh() override {
    if (size_override_) data_.resize(size_override_, std::byte{0});
    return Status::Ok();
  }

  void Read(uint64_t offset, std::span<std::byte> buf, volume::IoCallback done) override {
    Record({"read", offset, buf.size(), false});
    Complete("read", std::move(done), [=, this] { std::memcpy(buf.data(), &data_[offset], buf.size()); });
  }
  void Write(uint64_t offset, std::span<const std::byte> buf, bool fua,
             volume::IoCallback done) override {
    Record({"write", offset, buf.size(), fua});
    Complete("write", std::move(done), [=, this] { std::memcpy(&data_[offset], buf.data(), buf.size()); });
  }
  void Flush(volume::IoCallback done) override {
    Record({"flush", 0, 0, false});
    Complete("flush", std::move(done), [] {});
  }
  void Discard(uint64_t offset, uint64_t length, volume::IoCallback done) override {
    Record({"discard", offset, length, false});
    Complete("discard", std::move(done),
             [=, this] { std::memset(&data_[offset], 0, length); });
  }
  void WriteZeroes(uint64_t offset, uint64_t length, bool unmap, volume::IoCallback done) override {
    Record({"zeroes", offset, length, unmap});
    Complete("zeroes", std::move(done),
             [=, this] { std::memset(&data_[offset], 0, length); });
  }

  // The next operation named `op` fails with `code` (once).
  void FailNext(const std::string& op, StatusCode code) {
    std::lock_guard l(mu_);
    fail_op_ = op;
    fail_code_ = code;
  }
  // While held, completions queue up; ReleaseOne()/ReleaseAll() run them in order.
  void Hold(bool on) { hold_ = on; }
  size_t Held() const { return held_.size(); }
  void ReleaseOne() {
    auto f = std::move(held_.front());
    held_.pop_front();
    f();
  }
  void ReleaseAll() {
    while (!held_.empty()) ReleaseOne();
  }
  void SetSizeForRefresh(uint64_t size) { size_override_ = size; }

  std::vector<Call> calls() {
    std::lock_guard l(mu_);
    return calls_;
  }
  void ClearCalls() {
    std::lock_guard l(mu_);
    calls_.clear();
  }
  std::byte* raw() { return data_.data(); }

 private:
  void Record(Call c) {
    std::lock_guard l(mu_);
    calls_.push_back(std::move(c));
  }
  void Complete(const std::string& op, volume::IoCallback done, std::function<void()> effect) {
    Status st;
    {
      std::lock_guard l(mu_);
      if (fail_op_ == op) {
        st = Status(fail_code_, "injected");
        fail_op_.clear();
      }
    }
    auto run = [st, done = std::move(done), effect = std::move(effect)] {
      if (st.ok()) effect();
      done(st);
    };
    if (hold_) {
      held_.push_back(std::move(run));
    } else {
      run();
    }
  }

  std::mutex mu_;
  std::vector<std::byte> data_;
  uint32_t block_size_;
  uint64_t size_override_ = 0;
  std::vector<Call> calls_;
  std::string fail_op_;
  StatusCode fail_code_ = StatusCode::kInternal;
  bool hold_ = false;
  std::deque<std::function<void()>> held_;
};

}  // namespace scoria::target::testing
