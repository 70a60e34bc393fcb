// Media commands: reads/writes in every size, range and length checks, FUA and flush reaching
// the device, Data-Out residual policy, VERIFY, COMPARE AND WRITE (including its gate), WRITE
// SAME, UNMAP, GET LBA STATUS, read-only units and device errors.
#include <cstring>

#include "scsi_test_util.h"

namespace scoria::target::testing {
namespace {

using scsi::Load32;
using scsi::Load64;

bool AllEqual(std::span<const std::byte> v, size_t from, size_t n, uint8_t value) {
  for (size_t i = from; i < from + n; ++i)
    if (v[i] != std::byte{value}) return false;
  return true;
}

TEST_F(ScsiTest, WriteThenReadEveryCdbSize) {
  // WRITE(6) at LBA 1, 2 blocks; WRITE(12) at 3; WRITE(16) at 5.
  ExpectGood(Run({0x0a, 0, 0, 1, 2, 0}, Fill(1024, 0x61)));
  ExpectGood(Run({0xaa, 0, 0, 0, 0, 3, 0, 0, 0, 2}, Fill(1024, 0x62)));
  ScsiCommand w16 = Cdb16(0x8a, 5, 2);
  w16.data_out = Fill(1024, 0x63);
  ExpectGood(RunCmd(a_, std::move(w16)));
  ScsiResult r = Run({0x08, 0, 0, 1, 6, 0});  // READ(6) 6 blocks from 1
  ExpectGood(r);
  ASSERT_EQ(r.data_in.size(), 6u * 512);
  EXPECT_TRUE(AllEqual(r.data_in, 0, 1024, 0x61));
  EXPECT_TRUE(AllEqual(r.data_in, 1024, 1024, 0x62));
  EXPECT_TRUE(AllEqual(r.data_in, 2048, 1024, 0x63));
  r = Run({0xa8, 0, 0, 0, 0, 3, 0, 0, 0, 2});
  EXPECT_TRUE(AllEqual(r.data_in, 0, 1024, 0x62));
  r = RunCmd(a_, Cdb16(0x88, 5, 1));
  EXPECT_TRUE(AllEqual(r.data_in, 0, 512, 0x63));
}

TEST_F(ScsiTest, Read6LengthZeroMeans256Blocks) {
  EXPECT_EQ(Run({0x08, 0, 0, 0, 0, 0}).data_in.size(), 256u * 512);
}

TEST_F(ScsiTest, BeyondEndOfLunIsLbaOutOfRange) {
  ExpectSense(Read10(kBlocks - 1, 2), 0x05, 0x21, 0x00);
  ExpectSense(Read10(kBlocks + 1, 0), 0x05, 0x21, 0x00);  // even for zero blocks
  ExpectSense(RunCmd(a_, Cdb16(0x88, ~0ULL, 1)), 0x05, 0x21, 0x00);
  ExpectSense(Write10(kBlocks, 1, 1), 0x05, 0x21, 0x00);
  ExpectGood(Read10(kBlocks - 1, 1));
}

TEST_F(ScsiTest, ZeroBlocksIsGoodWithoutIo) {
  dev_->ClearCalls();
  ScsiResult r = Read10(0, 0);
  ExpectGood(r);
  EXPECT_TRUE(r.data_in.empty());
  ExpectGood(RunCmd(a_, Cdb10(0x2a, 0, 0)));
  EXPECT_TRUE(dev_->calls().empty());
}

TEST_F(ScsiTest, TransferLongerThanBlockLimitsIsInvalidField) {
  UnitConfig cfg;
  cfg.max_transfer_bytes = 64 * 512;
  Make(cfg);
  ScsiResult r = Read10(0, 65);
  ExpectSense(r, 0x05, 0x24, 0x00);
  EXPECT_EQ(scsi::Load16(&r.sense[16]), 7);  // TRANSFER LENGTH
  ExpectGood(Read10(0, 64));
}

TEST_F(ScsiTest, FuaAndSynchronizeCacheReachTheDevice) {
  dev_->ClearCalls();
  ExpectGood(Write10(0, 1, 1));
  ExpectGood(Write10(0, 1, 1, 0x08));  // FUA
  ExpectGood(Run({0x35}));             // SYNCHRONIZE CACHE(10)
  ExpectGood(RunCmd(a_, Cdb16(0x91, 0, 0)));
  auto calls = dev_->calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].op, "write");
  EXPECT_FALSE(calls[0].flag);
  EXPECT_TRUE(calls[1].flag);
  EXPECT_EQ(calls[2].op, "flush");
  EXPECT_EQ(calls[3].op, "flush");
  ExpectSense(RunCmd(a_, Cdb16(0x91, kBlocks, 1)), 0x05, 0x21, 0x00);
}

TEST_F(ScsiTest, WriteDataOutShorterOrLongerThanCdb) {
  ExpectGood(Write10(0, 2, 0x61));
  // CDB says 2 blocks, one arrived (EDTL = 1 block): only that block is written.
  ScsiCommand c = Cdb10(0x2a, 0, 2);
  c.data_out = Fill(512, 0x62);
  ExpectGood(RunCmd(a_, std::move(c)));
  ScsiResult r = Read10(0, 2);
  EXPECT_TRUE(AllEqual(r.data_in, 0, 512, 0x62));
  EXPECT_TRUE(AllEqual(r.data_in, 512, 512, 0x61));
  // CDB says 1 block, 10000 bytes arrived: one block written.
  c = Cdb10(0x2a, 1, 1);
  c.data_out = Fill(10000, 0x63);
  ExpectGood(RunCmd(a_, std::move(c)));
  r = Read10(0, 3);
  EXPECT_TRUE(AllEqual(r.data_in, 512, 512, 0x63));
  EXPECT_TRUE(AllEqual(r.data_in, 1024, 512, 0x00));
  // Nothing arrived: GOOD, nothing written.
  dev_->ClearCalls();
  ExpectGood(RunCmd(a_, Cdb10(0x2a, 0, 1)));
  EXPECT_TRUE(dev_->calls().empty());
}

TEST_F(ScsiTest, WriteAndVerifyWritesWithFua) {
  dev_->ClearCalls();
  ScsiCommand c = Cdb10(0x2e, 4, 1, 0x02);
  c.data_out = Fill(512, 0x77);
  ExpectGood(RunCmd(a_, std::move(c)));
  ASSERT_EQ(dev_->calls().size(), 1u);
  EXPECT_TRUE(dev_->calls()[0].flag);
  EXPECT_TRUE(AllEqual(Read10(4, 1).data_in, 0, 512, 0x77));
}

TEST_F(ScsiTest, VerifyCompareAndMiscompare) {
  ExpectGood(Write10(0, 2, 0x41));
  ScsiCommand v = Cdb10(0x2f, 0, 2, 0x02);  // BYTCHK=1
  v.data_out = Fill(1024, 0x41);
  ExpectGood(RunCmd(a_, std::move(v)));
  v = Cdb10(0x2f, 0, 2, 0x02);
  v.data_out = Fill(1024, 0x41);
  v.data_out[700] = std::byte{0x42};
  ScsiResult r = RunCmd(a_, std::move(v));
  ExpectSense(r, 0x0e, 0x1d, 0x00);
  EXPECT_EQ(r.sense[0], 0xf0);  // VALID
  EXPECT_EQ(Load32(&r.sense[3]), 700u);
  ExpectGood(RunCmd(a_, Cdb10(0x2f, 0, 2)));  // BYTCHK=0: medium check only
  ExpectSense(RunCmd(a_, Cdb10(0x2f, 0, 2, 0x04)), 0x05, 0x24, 0x00);  // BYTCHK=2
  ExpectSense(RunCmd(a_, Cdb16(0x8f, kBlocks, 1)), 0x05, 0x21, 0x00);
  ExpectSense(RunCmd(a_, Cdb10(0x2f, 0, 1, 0x20)), 0x05, 0x24, 0x00);  // VRPROTECT
}

ScsiCommand Caw(uint64_t lba, uint8_t blocks, uint8_t expect, uint8_t write) {
  ScsiCommand c = ScsiTest::Cdb16(0x89, lba, 0);
  scsi::Store32(&c.cdb[10], 0);
  c.cdb[13] = blocks;
  c.data_out = ScsiTest::Fill(size_t(blocks) * 512, expect);
  auto w = ScsiTest::Fill(size_t(blocks) * 512, write);
  c.data_out.insert(c.data_out.end(), w.begin(), w.end());
  return c;
}

TEST_F(ScsiTest, CompareAndWrite) {
  ExpectGood(Write10(10, 2, 0x41));
  ExpectGood(RunCmd(a_, Caw(10, 2, 0x41, 0x42)));
  EXPECT_TRUE(AllEqual(Read10(10, 2).data_in, 0, 1024, 0x42));
  ScsiCommand c = Caw(10, 2, 0x42, 0x43);
  c.data_out[1000] = std::byte{0};  // mismatch in the second block
  ScsiResult r = RunCmd(a_, std::move(c));
  ExpectSense(r, 0x0e, 0x1d, 0x00);
  EXPECT_EQ(r.sense[0], 0xf0);
  EXPECT_EQ(Load32(&r.sense[3]), 1000u);
  EXPECT_TRUE(AllEqual(Read10(10, 2).data_in, 0, 1024, 0x42));  // nothing written
  // Data-Out must be exactly 2 x blocks.
  c = Caw(10, 2, 0x42, 0x43);
  c.cdb[13] = 1;
  ExpectSense(RunCmd(a_, std::move(c)), 0x05, 0x24, 0x00);
  ExpectSense(RunCmd(a_, Caw(kBlocks - 1, 2, 0, 0)), 0x05, 0x21, 0x00);
}

TEST_F(ScsiTest, CompareAndWriteWaitsForWritesAndBlocksNewOnes) {
  dev_->Hold(true);
  std::vector<ScsiResult> done;
  ScsiCommand w = Cdb10(0x2a, 20, 1);
  w.data_out = Fill(512, 0x41);
  lu_->Execute(a_, std::move(w), [&](ScsiResult r) { done.push_back(std::move(r)); });
  EXPECT_EQ(dev_->Held(), 1u);
  lu_->Execute(b_, Caw(20, 1, 0x41, 0x42), [&](ScsiResult r) { done.push_back(std::move(r)); });
  EXPECT_EQ(dev_->Held(), 1u);  // CAW waits for the write in flight
  ScsiCommand w2 = Cdb10(0x2a, 20, 1);
  w2.data_out = Fill(512, 0x43);
  lu_->Execute(a_, std::move(w2), [&](ScsiResult r) { done.push_back(std::move(r)); });
  EXPECT_EQ(dev_->Held(), 1u);  // a later write queues behind the CAW
  dev_->ReleaseOne();            // first write completes: CAW starts (read)
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(dev_->Held(), 1u);
  dev_->ReleaseOne();  // CAW read -> compare OK -> write
  dev_->ReleaseOne();  // CAW write completes -> queued write starts
  ASSERT_EQ(done.size(), 2u);
  ExpectGood(done[1]);
  dev_->ReleaseAll();
  ASSERT_EQ(done.size(), 3u);
  dev_->Hold(false);
  EXPECT_TRUE(AllEqual(Read10(20, 1).data_in, 0, 512, 0x43));
}

TEST_F(ScsiTest, WriteSamePatternZeroAndUnmap) {
  // Pattern: one block repeated.
  std::vector<std::byte> block = Fill(512, 0);
  for (size_t i = 0; i < 512; ++i) block[i] = std::byte(i & 0xff);
  ExpectGood(Run({0x41, 0, 0, 0, 0, 100, 0, 0, 3}, block));
  ScsiResult r = Read10(100, 3);
  for (int b = 0; b < 3; ++b) EXPECT_EQ(std::memcmp(&r.data_in[b * 512], block.data(), 512), 0);
  // UNMAP bit with zeroes: WriteZeroes(unmap) and reads back zeroes.
  dev_->ClearCalls();
  ExpectGood(Run({0x41, 0x08, 0, 0, 0, 100, 0, 0, 3}, Fill(512, 0)));
  ASSERT_EQ(dev_->calls().size(), 1u);
  EXPECT_EQ(dev_->calls()[0].op, "zeroes");
  EXPECT_TRUE(dev_->calls()[0].flag);
  EXPECT_TRUE(AllEqual(Read10(100, 3).data_in, 0, 1536, 0));
  // NDOB (WRITE SAME(16)) needs no data.
  ExpectGood(Write10(200, 1, 0x55));
  ScsiCommand ws = Cdb16(0x93, 200, 1, 0x09);
  ExpectGood(RunCmd(a_, std::move(ws)));
  EXPECT_TRUE(AllEqual(Read10(200, 1).data_in, 0, 512, 0));
  // Number of blocks 0: to the end of the LUN.
  ExpectGood(Write10(kBlocks - 2, 2, 0x55));
  ExpectGood(Run({0x41, 0x08, 0, 0, uint8_t((kBlocks - 2) >> 8), uint8_t(kBlocks - 2), 0, 0, 0},
                 Fill(512, 0)));
  EXPECT_TRUE(AllEqual(Read10(kBlocks - 2, 2).data_in, 0, 1024, 0));
}

TEST_F(ScsiTest, WriteSameErrors) {
  ExpectSense(Run({0x41, 0, 0, 0, 0, 0, 0, 0, 1}, Fill(256, 1)), 0x05, 0x24, 0x00);
  ExpectSense(Run({0x41, 0, 0, 0, 0, 0, 0, 0, 1}, Fill(1024, 1)), 0x05, 0x24, 0x00);
  ExpectSense(Run({0x41, 0, 0, 0, 0x08, 0x01, 0, 0, 0}, Fill(512, 1)), 0x05, 0x21, 0x00);
  ExpectSense(Run({0x41, 0x10, 0, 0, 0, 0, 0, 0, 1}, Fill(512, 1)), 0x05, 0x24, 0x00);  // ANCHOR
  ExpectSense(Run({0x41, 0x20, 0, 0, 0, 0, 0, 0, 1}, Fill(512, 1)), 0x05, 0x24, 0x00);  // WRPROTECT
}

// libiscsi WriteSame10.UnmapUntilEnd: UNMAP=1 with a Data-Out block of 0xFF and NUMBER OF
// LOGICAL BLOCKS 0 must deallocate to the end of the LUN, not write the pattern (LBPRZ=1).
TEST_F(ScsiTest, WriteSameUnmapIgnoresNonZeroData) {
  ExpectGood(Write10(kBlocks - 3, 3, 0xff));
  dev_->ClearCalls();
  ExpectGood(Run({0x41, 0x08, 0, 0, uint8_t((kBlocks - 3) >> 8), uint8_t(kBlocks - 3), 0, 0, 0},
                 Fill(512, 0xff)));
  ASSERT_EQ(dev_->calls().size(), 1u);
  EXPECT_EQ(dev_->calls()[0].op, "zeroes");
  EXPECT_TRUE(dev_->calls()[0].flag);
  EXPECT_TRUE(AllEqual(Read10(kBlocks - 3, 3).data_in, 0, 3 * 512, 0));
  // The same through WRITE SAME(16) with an explicit count.
  ExpectGood(Write10(40, 4, 0xff));
  ScsiCommand ws = Cdb16(0x93, 40, 4, 0x08);
  ws.data_out = Fill(512, 0xa5);
  ExpectGood(RunCmd(a_, std::move(ws)));
  EXPECT_TRUE(AllEqual(Read10(40, 4).data_in, 0, 4 * 512, 0));
  // Without UNMAP the pattern is written.
  ExpectGood(Run({0x41, 0, 0, 0, 0, 40, 0, 0, 2}, Fill(512, 0xa5)));
  EXPECT_TRUE(AllEqual(Read10(40, 2).data_in, 0, 2 * 512, 0xa5));
}

// libiscsi WriteSame16.Unmap: a count above MAXIMUM WRITE SAME LENGTH is INVALID FIELD IN CDB
// pointing at NUMBER OF LOGICAL BLOCKS, checked before the LBA range.
TEST_F(ScsiTest, WriteSameLongerThanBlockLimitsIsInvalidField) {
  ScsiCommand ws = Cdb16(0x93, 0, 0x10000, 0x08);
  ws.data_out = Fill(512, 0);
  ScsiResult r = RunCmd(a_, std::move(ws));
  ExpectSense(r, 0x05, 0x24, 0x00);
  EXPECT_EQ(scsi::Load16(&r.sense[16]), 10);
  ExpectGood(Run({0x41, 0x08, 0, 0, 0, 0, 0, 0x01, 0}, Fill(512, 0)));  // 256 blocks
}

std::vector<std::byte> UnmapList(std::initializer_list<std::pair<uint64_t, uint32_t>> ranges) {
  std::vector<uint8_t> p(8 + 16 * ranges.size(), 0);
  scsi::Store16(&p[0], uint16_t(p.size() - 2));
  scsi::Store16(&p[2], uint16_t(16 * ranges.size()));
  size_t i = 0;
  for (auto [lba, n] : ranges) {
    scsi::Store64(&p[8 + 16 * i], lba);
    scsi::Store32(&p[8 + 16 * i + 8], n);
    ++i;
  }
  std::vector<std::byte> out(p.size());
  std::memcpy(out.data(), p.data(), p.size());
  return out;
}

TEST_F(ScsiTest, UnmapZeroesRanges) {
  ExpectGood(Write10(0, 16, 0x61));
  auto list = UnmapList({{2, 3}, {10, 1}, {12, 0}});
  ExpectGood(Run({0x42, 0, 0, 0, 0, 0, 0, 0, uint8_t(list.size())}, list));
  ScsiResult r = Read10(0, 16);
  EXPECT_TRUE(AllEqual(r.data_in, 0, 1024, 0x61));
  EXPECT_TRUE(AllEqual(r.data_in, 1024, 1536, 0));
  EXPECT_TRUE(AllEqual(r.data_in, 2560, 2560, 0x61));
  EXPECT_TRUE(AllEqual(r.data_in, 5120, 512, 0));
  EXPECT_TRUE(AllEqual(r.data_in, 5632, 512 * 5, 0x61));
  // Empty parameter list, empty descriptor list, 0 blocks at the end: GOOD.
  ExpectGood(Run({0x42}));
  auto empty = UnmapList({});
  ExpectGood(Run({0x42, 0, 0, 0, 0, 0, 0, 0, 8}, empty));
  auto at_end = UnmapList({{kBlocks, 0}});
  ExpectGood(Run({0x42, 0, 0, 0, 0, 0, 0, 0, 24}, at_end));
}

TEST_F(ScsiTest, UnmapErrors) {
  auto oob = UnmapList({{kBlocks - 1, 2}});
  ExpectSense(Run({0x42, 0, 0, 0, 0, 0, 0, 0, 24}, oob), 0x05, 0x21, 0x00);
  ExpectSense(Run({0x42, 0, 0, 0, 0, 0, 0, 0, 4}, Fill(4, 0)), 0x05, 0x1a, 0x00);
  auto huge = UnmapList({{0, (1u << 20) + 1}});
  UnitConfig cfg;
  Make(cfg);
  ExpectSense(Run({0x42, 0, 0, 0, 0, 0, 0, 0, 24}, huge), 0x05, 0x21, 0x00);  // beyond LUN first
}

TEST_F(ScsiTest, GetLbaStatusReportsMapped) {
  ScsiResult r = RunCmd(a_, Cdb16(0x9e, 7, 24, 0x12));
  ExpectGood(r);
  ASSERT_EQ(r.data_in.size(), 24u);
  const auto* d = reinterpret_cast<const uint8_t*>(r.data_in.data());
  EXPECT_EQ(Load32(d), 20u);
  EXPECT_EQ(Load64(d + 8), 7u);
  EXPECT_EQ(Load32(d + 16), kBlocks - 7);
  EXPECT_EQ(d[20], 0);
  ExpectSense(RunCmd(a_, Cdb16(0x9e, kBlocks, 24, 0x12)), 0x05, 0x21, 0x00);
  ExpectSense(RunCmd(a_, Cdb16(0x9e, ~0ULL, 24, 0x12)), 0x05, 0x21, 0x00);
}

TEST_F(ScsiTest, PrefetchIsGood) {
  ExpectGood(RunCmd(a_, Cdb10(0x34, 0, 1, 0x02)));
  ExpectGood(RunCmd(a_, Cdb16(0x90, kBlocks - 1, 1)));
  ExpectSense(RunCmd(a_, Cdb16(0x90, kBlocks, 1)), 0x05, 0x21, 0x00);
}

TEST_F(ScsiTest, ReadOnlyUnitRefusesEveryWriter) {
  UnitConfig cfg;
  cfg.read_only = true;
  Make(cfg);
  ExpectSense(Write10(0, 1, 1), 0x07, 0x27, 0x00);
  ExpectSense(Run({0x0a, 0, 0, 0, 1, 0}, Fill(512, 1)), 0x07, 0x27, 0x00);
  ExpectSense(RunCmd(a_, Caw(0, 1, 0, 1)), 0x07, 0x27, 0x00);
  ExpectSense(Run({0x41, 0, 0, 0, 0, 0, 0, 0, 1}, Fill(512, 0)), 0x07, 0x27, 0x00);
  auto list = UnmapList({{0, 1}});
  ExpectSense(Run({0x42, 0, 0, 0, 0, 0, 0, 0, 24}, list), 0x07, 0x27, 0x00);
  ScsiCommand wv = Cdb10(0x2e, 0, 1);
  wv.data_out = Fill(512, 1);
  ExpectSense(RunCmd(a_, std::move(wv)), 0x07, 0x27, 0x00);
  ExpectGood(Read10(0, 1));
  ExpectGood(Run({0x35}));
  EXPECT_EQ(Byte(Run({0x1a, 0, 0x3f, 0, 255}), 2) & 0x80, 0x80);
}

TEST_F(ScsiTest, DeviceErrorsBecomeMediumErrors) {
  dev_->FailNext("read", StatusCode::kUnavailable);
  ExpectSense(Read10(0, 1), 0x03, 0x11, 0x00);
  dev_->FailNext("write", StatusCode::kUnavailable);
  ExpectSense(Write10(0, 1, 1), 0x03, 0x0c, 0x00);
  dev_->FailNext("write", StatusCode::kResourceExhausted);
  ExpectSense(Write10(0, 1, 1), 0x07, 0x27, 0x07);
  dev_->FailNext("flush", StatusCode::kUnavailable);
  ExpectSense(Run({0x35}), 0x03, 0x0c, 0x00);
  dev_->FailNext("discard", StatusCode::kUnavailable);
  auto list = UnmapList({{0, 1}});
  ExpectSense(Run({0x42, 0, 0, 0, 0, 0, 0, 0, 24}, list), 0x03, 0x0c, 0x00);
  // The write gate was released: writes still work.
  ExpectGood(Write10(0, 1, 1));
}

}  // namespace
}  // namespace scoria::target::testing
