// TestDevice: a BlockDevice wrapper for job tests: records what was read, can fail chosen
// I/O, and can hold reads (a gate) so a test can act while a job is mid-transfer.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "backup/job.h"
#include "volume/block_device.h"

namespace scoria::backup::testing {

class TestDevice final : public volume::BlockDevice {
 public:
  explicit TestDevice(std::shared_ptr<volume::BlockDevice> inner) : inner_(std::move(inner)) {}
  ~TestDevice() override { OpenGate(); }

  uint64_t Size() const override { return inner_->Size(); }
  uint32_t BlockSize() const override { return inner_->BlockSize(); }
  Status Refresh() override { return inner_->Refresh(); }

  void Read(uint64_t offset, std::span<std::byte> buf, volume::IoCallback done) override {
    {
      std::lock_guard lock(mu_);
      reads_.push_back({offset, buf.size()});
      if (fail_read_at_ != UINT64_MAX && offset <= fail_read_at_ &&
          fail_read_at_ < offset + buf.size()) {
        done(Internal("I/O error"));
        return;
      }
      if (gated_ || (hold_after_ >= 0 && passed_++ >= hold_after_)) {
        held_.push_back([this, offset, buf, done = std::move(done)]() mutable {
          inner_->Read(offset, buf, std::move(done));
        });
        return;
      }
    }
    inner_->Read(offset, buf, std::move(done));
  }
  void Write(uint64_t offset, std::span<const std::byte> buf, bool fua,
             volume::IoCallback done) override {
    {
      std::lock_guard lock(mu_);
      writes_.push_back({offset, buf.size()});
      if (fail_writes_) {
        done(Internal("I/O error"));
        return;
      }
    }
    inner_->Write(offset, buf, fua, std::move(done));
  }
  void Flush(volume::IoCallback done) override {
    if (++flushes_ > fail_flushes_after_.load()) {
      done(Internal("flush: I/O error"));
      return;
    }
    inner_->Flush(std::move(done));
  }
  // Flushes after the first n fail.
  void FailFlushesAfter(int n) { fail_flushes_after_ = n; }
  void Discard(uint64_t offset, uint64_t length, volume::IoCallback done) override {
    inner_->Discard(offset, length, std::move(done));
  }
  void WriteZeroes(uint64_t offset, uint64_t length, bool unmap, volume::IoCallback done) override {
    {
      std::lock_guard lock(mu_);
      zeroes_.push_back({offset, length});
      if (fail_zeroes_at_or_after_ <= offset) {
        done(Internal("I/O error"));
        return;
      }
    }
    inner_->WriteZeroes(offset, length, unmap, std::move(done));
  }

  void FailReadAt(uint64_t offset) {
    std::lock_guard lock(mu_);
    fail_read_at_ = offset;
  }
  // WriteZeroes at offsets >= `offset` fail.
  void FailZeroesFrom(uint64_t offset) {
    std::lock_guard lock(mu_);
    fail_zeroes_at_or_after_ = offset;
  }
  void FailWrites() {
    std::lock_guard lock(mu_);
    fail_writes_ = true;
  }
  void CloseGate() {
    std::lock_guard lock(mu_);
    gated_ = true;
  }
  // Lets the next n reads through, then holds every read until OpenGate.
  void HoldReadsAfter(int n) {
    std::lock_guard lock(mu_);
    hold_after_ = n;
    passed_ = 0;
  }
  size_t HeldReads() {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  // Completes the held reads on another thread (as a real device would) and stops holding.
  void OpenGate() {
    std::vector<std::function<void()>> held;
    {
      std::lock_guard lock(mu_);
      gated_ = false;
      hold_after_ = -1;
      held.swap(held_);
    }
    if (held.empty()) return;
    std::thread([held = std::move(held)] {
      for (auto& f : held) f();
    }).join();
  }
  std::vector<ByteRange> reads() {
    std::lock_guard lock(mu_);
    return reads_;
  }
  std::vector<ByteRange> writes() {
    std::lock_guard lock(mu_);
    return writes_;
  }
  std::vector<ByteRange> zeroes() {
    std::lock_guard lock(mu_);
    return zeroes_;
  }
  int flushes() const { return flushes_.load(); }

 private:
  std::shared_ptr<volume::BlockDevice> inner_;
  std::mutex mu_;
  std::vector<ByteRange> reads_, writes_, zeroes_;
  std::vector<std::function<void()>> held_;
  bool gated_ = false;
  int hold_after_ = -1;
  int passed_ = 0;
  bool fail_writes_ = false;
  uint64_t fail_read_at_ = UINT64_MAX;
  uint64_t fail_zeroes_at_or_after_ = UINT64_MAX;
  std::atomic<int> flushes_{0};
  std::atomic<int> fail_flushes_after_{INT32_MAX};
};

}  // namespace scoria::backup::testing
