#include "target/output_queue.h"

#include <sys/socket.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace scoria::target {
namespace {

// Copies are gathered into chunks of this size: a burst of small PDUs (headers, SCSI
// Responses, R2Ts) becomes few iovecs. Larger copies (a long Text Response) get their own.
constexpr size_t kChunkSize = 16 * 1024;
// IOV_MAX (1024 on Linux): sendmsg fails with EMSGSIZE beyond it.
constexpr size_t kMaxIovecs = IOV_MAX;

}  // namespace

void OutputQueue::Append(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  if (chunk_ && segments_.empty() && chunk_.use_count() == 1) chunk_used_ = 0;  // reuse it
  if (!chunk_ || chunk_size_ - chunk_used_ < bytes.size()) {
    chunk_size_ = std::max(kChunkSize, bytes.size());
    chunk_ = std::make_shared_for_overwrite<uint8_t[]>(chunk_size_);
    chunk_used_ = 0;
  }
  uint8_t* dst = chunk_.get() + chunk_used_;
  std::memcpy(dst, bytes.data(), bytes.size());
  chunk_used_ += bytes.size();
  bytes_ += bytes.size();
  // Contiguous with the last copy (same chunk): one segment, one iovec.
  if (!segments_.empty()) {
    Segment& last = segments_.back();
    if (last.owner == chunk_ && last.data + last.len == dst) {
      last.len += bytes.size();
      return;
    }
  }
  segments_.push_back({dst, bytes.size(), chunk_});
}

void OutputQueue::AppendShared(std::span<const uint8_t> bytes, std::shared_ptr<const void> owner) {
  if (bytes.empty()) return;
  bytes_ += bytes.size();
  segments_.push_back({bytes.data(), bytes.size(), std::move(owner)});
}

void OutputQueue::Append(const EncodedPdu& pdu, std::shared_ptr<const void> data_owner) {
  iovec parts[3];
  const size_t n = pdu.Iovecs(parts);
  for (size_t i = 0; i < n; ++i) {
    std::span<const uint8_t> bytes(static_cast<const uint8_t*>(parts[i].iov_base),
                                   parts[i].iov_len);
    if (data_owner && bytes.data() == pdu.data().data()) {
      AppendShared(bytes, data_owner);
    } else {
      Append(bytes);
    }
  }
}

ssize_t OutputQueue::SendTo(int fd) {
  iov_.clear();
  for (const Segment& s : segments_) {
    if (iov_.size() == kMaxIovecs) break;
    iov_.push_back({const_cast<uint8_t*>(s.data), s.len});
  }
  msghdr msg{};
  msg.msg_iov = iov_.data();
  msg.msg_iovlen = iov_.size();
  ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  if (n > 0) Consume(static_cast<size_t>(n));
  return n;
}

void OutputQueue::Consume(size_t n) {
  bytes_ -= n;
  while (n > 0) {
    Segment& s = segments_.front();
    if (n < s.len) {
      s.data += n;
      s.len -= n;
      return;
    }
    n -= s.len;
    segments_.pop_front();  // releases the payload buffer once its last segment is sent
  }
}

void OutputQueue::Clear() {
  segments_.clear();
  bytes_ = 0;
}

}  // namespace scoria::target
