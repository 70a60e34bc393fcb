// OutputQueue: what a connection has yet to write to its socket, in order, as segments.
//
// Model: small PDUs, and the headers and trailers (padding, data digest) of large ones, are
// copied into chunks the queue owns; a Data-In payload is not copied: its segment references
// the command's buffer (shared ownership) until the bytes are on the socket. SendTo writes as
// many segments as one sendmsg takes (at most IOV_MAX iovecs, so many PDUs per system call),
// and releases each segment, and the buffer it references, as soon as it is fully sent. So the
// memory the queue holds is what is still unsent, plus at most one partly used chunk: a
// pipeline of large reads whose responses are queued before the socket drains does not keep
// the bytes already sent (the compaction the old contiguous buffer needed).
//
// Threading: a plain value owned by one thread (the connection's reactor).
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "target/pdu.h"

namespace scoria::target {

class OutputQueue {
 public:
  // Queues a copy of `bytes`.
  void Append(std::span<const uint8_t> bytes);
  // Queues `bytes` without copying them; `owner` keeps them alive and unchanged until they
  // have been sent (or the queue is cleared or destroyed).
  void AppendShared(std::span<const uint8_t> bytes, std::shared_ptr<const void> owner);
  // Queues the wire form of `pdu`: header and trailer are copied; the data segment is
  // referenced when `data_owner` keeps it alive (the Pdu borrows it), else copied.
  void Append(const EncodedPdu& pdu, std::shared_ptr<const void> data_owner);

  bool empty() const { return segments_.empty(); }
  size_t size() const { return bytes_; }  // bytes not yet sent
  // Segments queued (tests: that payloads are referenced, not copied).
  size_t segment_count() const { return segments_.size(); }

  // One sendmsg(MSG_NOSIGNAL) of the queue's head. Returns the bytes written, which leave the
  // queue, or -1 with errno set (EAGAIN/EWOULDBLOCK when the socket buffer is full, EINTR, or
  // a socket error), the queue then unchanged. Precondition: !empty().
  ssize_t SendTo(int fd);

  // Drops everything queued.
  void Clear();

 private:
  struct Segment {
    const uint8_t* data;
    size_t len;
    std::shared_ptr<const void> owner;  // a chunk of this queue, or a caller's buffer
  };
  void Consume(size_t n);

  std::deque<Segment> segments_;
  size_t bytes_ = 0;
  // The chunk copies go to; bytes before chunk_used_ may be referenced by queued segments and
  // are never moved or overwritten while they are.
  std::shared_ptr<uint8_t[]> chunk_;
  size_t chunk_size_ = 0;
  size_t chunk_used_ = 0;
  std::vector<iovec> iov_;  // reused by SendTo
};

}  // namespace scoria::target
