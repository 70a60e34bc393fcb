#include "target/data_buffer.h"

#include <gtest/gtest.h>

#include <cstring>

namespace scoria::target {
namespace {

// Large READ buffers are reused (no page faults on the next READ), but never while the send
// queue still holds one.
TEST(DataBufferTest, LargeBlocksAreReusedOnlyWhenNobodyHoldsThem) {
  const void* first;
  std::shared_ptr<const std::byte[]> shared;
  {
    DataBuffer a(1 << 20);
    first = a.data();
    shared = a.Share();
  }
  DataBuffer b(1 << 20);
  EXPECT_NE(b.data(), first);  // `shared` still holds the first block
  shared.reset();
  DataBuffer c(1000 * 1000);  // the same size class (1 MiB)
  EXPECT_EQ(c.data(), first);
  EXPECT_EQ(c.size(), 1000u * 1000);
}

TEST(DataBufferTest, CopyCopiesMoveMoves) {
  DataBuffer a(200 * 1024);
  std::memset(a.data(), 0x5a, a.size());
  DataBuffer b = a;
  EXPECT_NE(b.data(), a.data());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0);
  const std::byte* p = a.data();
  DataBuffer c = std::move(a);
  EXPECT_EQ(c.data(), p);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  DataBuffer small(10);
  EXPECT_EQ(small.size(), 10u);
  DataBuffer none(0);
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace scoria::target
