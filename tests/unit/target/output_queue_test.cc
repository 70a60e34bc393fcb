#include "target/output_queue.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fcntl.h>
#include <numeric>

#include "target/pdu_build.h"

namespace scoria::target {
namespace {

class OutputQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    int small = 4096;  // the kernel doubles it and rounds up: still far below what we queue
    ASSERT_EQ(::setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
    ASSERT_EQ(::setsockopt(fds_[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    ::fcntl(fds_[0], F_SETFL, ::fcntl(fds_[0], F_GETFL) | O_NONBLOCK);
  }
  void TearDown() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  // Everything readable on the peer now.
  void Drain(std::vector<uint8_t>* got) {
    uint8_t buf[65536];
    for (;;) {
      ssize_t n = ::recv(fds_[1], buf, sizeof(buf), MSG_DONTWAIT);
      if (n <= 0) return;
      got->insert(got->end(), buf, buf + n);
    }
  }
  int fds_[2];
};

// Pipelined large payloads that do not fit the socket buffer: SendTo stops at EAGAIN with the
// queue intact, resumes mid-segment after the peer reads, keeps the byte order, and releases
// each payload once it is sent.
TEST_F(OutputQueueTest, PartialSendsAndEagainKeepOrderAndReleasePayloads) {
  OutputQueue q;
  std::vector<uint8_t> expected;
  std::vector<std::weak_ptr<const void>> payloads;
  for (int i = 0; i < 8; ++i) {
    const uint8_t header[] = {0xa0, uint8_t(i), 0xa1};
    q.Append(header);
    expected.insert(expected.end(), header, header + sizeof(header));
    auto payload = std::make_shared<std::vector<uint8_t>>(100000 + i);
    std::iota(payload->begin(), payload->end(), uint8_t(i * 7));
    q.AppendShared(*payload, payload);
    expected.insert(expected.end(), payload->begin(), payload->end());
    payloads.push_back(payload);
  }
  EXPECT_EQ(q.size(), expected.size());
  EXPECT_EQ(q.segment_count(), 16u);  // payloads referenced, not copied into the queue

  std::vector<uint8_t> got;
  int eagains = 0;
  while (!q.empty()) {
    const size_t before = q.size();
    ssize_t n = q.SendTo(fds_[0]);
    if (n < 0) {
      ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << errno;
      EXPECT_EQ(q.size(), before);  // a failed send leaves the queue as it was
      ++eagains;
      Drain(&got);
      continue;
    }
    EXPECT_EQ(q.size(), before - size_t(n));
    // A payload is released when its last byte has left, not before.
    size_t sent = expected.size() - q.size();
    size_t end = 0;
    for (int i = 0; i < 8; ++i) {
      end += 3 + 100000 + i;
      if (end <= sent) {
        EXPECT_TRUE(payloads[i].expired()) << i;
      } else if (end - (100000 + i) < sent) {
        EXPECT_FALSE(payloads[i].expired()) << i;
      }
    }
  }
  Drain(&got);
  EXPECT_GT(eagains, 0);  // the small socket buffer forced the EAGAIN path
  EXPECT_EQ(got, expected);
  for (auto& p : payloads) EXPECT_TRUE(p.expired());
}

// Small copies coalesce into one segment (one iovec); an encoded Data-In PDU queues its header
// and trailer by copy and its data by reference, with the data digest over the payload.
TEST_F(OutputQueueTest, EncodedPduMatchesCopyingEncode) {
  auto payload = std::make_shared<std::vector<uint8_t>>(1001);  // padded to 1004 on the wire
  std::iota(payload->begin(), payload->end(), uint8_t(3));
  DataInFields f;
  f.itt = 7;
  f.data_sn = 2;
  f.status = 0;
  Pdu pdu = BuildDataIn(f, std::span<const uint8_t>(*payload));
  const DigestConfig digests{true, true};
  std::vector<uint8_t> expected;
  EncodeTo(pdu, digests, &expected);

  OutputQueue q;
  const uint8_t a[] = {1, 2}, b[] = {3};
  q.Append(a);
  q.Append(b);
  EXPECT_EQ(q.segment_count(), 1u);
  q.Append(EncodedPdu(pdu, digests), payload);
  EXPECT_EQ(q.segment_count(), 3u);  // [a b header] [payload] [padding + digest]
  std::weak_ptr<const void> weak = payload;
  payload.reset();
  EXPECT_FALSE(weak.expired());  // the queue keeps it

  std::vector<uint8_t> got;
  while (!q.empty()) {
    if (q.SendTo(fds_[0]) < 0) {
      ASSERT_EQ(errno, EAGAIN);
    }
    Drain(&got);
  }
  EXPECT_TRUE(weak.expired());
  ASSERT_EQ(got.size(), 3 + expected.size());
  EXPECT_EQ(std::vector<uint8_t>(got.begin() + 3, got.end()), expected);
}

}  // namespace
}  // namespace scoria::target
