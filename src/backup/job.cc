// Shared job helpers (job.h) and the internal pipeline pieces (pipeline.h).
#include "backup/job.h"

#include <algorithm>

#include "backup/pipeline.h"

namespace scoria::backup {

std::vector<ByteRange> NormalizeRanges(std::vector<ByteRange> ranges, uint64_t size) {
  std::vector<ByteRange> out;
  for (ByteRange& r : ranges) {
    if (r.offset >= size || r.length == 0) continue;
    r.length = std::min(r.length, size - r.offset);
    out.push_back(r);
  }
  std::sort(out.begin(), out.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  std::vector<ByteRange> merged;
  for (const ByteRange& r : out) {
    if (!merged.empty() && r.offset <= merged.back().offset + merged.back().length) {
      uint64_t end = std::max(merged.back().offset + merged.back().length, r.offset + r.length);
      merged.back().length = end - merged.back().offset;
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

Status CancelledStatus(const std::string& what) { return FailedPrecondition(what + " cancelled"); }

bool IsCancelled(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition && s.message().ends_with(" cancelled");
}

namespace internal {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this, i] { Loop(i); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

// Notifies under the lock: Post may run on a device's completion thread, and once a worker
// has taken the task it may finish the job's last chunk, letting the job destroy the pool;
// the destructor takes mu_ first, so it cannot run before this call has let go of the pool.
void WorkerPool::Post(std::function<void(int)> task) {
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(task));
  cv_.notify_one();
}

void WorkerPool::Loop(int index) {
  for (;;) {
    std::function<void(int)> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task(index);
  }
}

bool InflightLimiter::Acquire(const std::function<bool()>& stop) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stop()) return false;
    if (inflight_ < max_) {
      ++inflight_;
      return true;
    }
    cv_.wait(lock);
  }
}

// Notifies under the lock for the same reason as Post: Release is often the last thing a
// device completion does for a job, and WaitIdle may return (and the job end) as soon as
// inflight_ reaches zero.
void InflightLimiter::Release() {
  std::lock_guard lock(mu_);
  --inflight_;
  cv_.notify_all();
}

void InflightLimiter::Wake() {
  { std::lock_guard lock(mu_); }
  cv_.notify_all();
}

void InflightLimiter::WaitIdle() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return inflight_ == 0; });
}

Status Await(const std::function<void(volume::IoCallback)>& start) {
  // The callback owns the promise: set_value may still be running on the device's thread
  // when get() returns here.
  auto p = std::make_shared<std::promise<Status>>();
  std::future<Status> f = p->get_future();
  start([p](Status s) { p->set_value(std::move(s)); });
  return f.get();
}

void FirstError::Set(Status s) {
  std::lock_guard lock(mu_);
  if (status_.ok() && !s.ok()) status_ = std::move(s);
}

bool FirstError::failed() const {
  std::lock_guard lock(mu_);
  return !status_.ok();
}

Status FirstError::Get() const {
  std::lock_guard lock(mu_);
  return status_;
}

}  // namespace internal
}  // namespace scoria::backup
