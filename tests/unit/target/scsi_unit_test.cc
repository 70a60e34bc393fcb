// Logical unit: dispatch, sense format, unit attentions, INQUIRY/VPD, capacity, mode pages,
// REPORT LUNS, REPORT SUPPORTED OPERATION CODES.
#include <cstring>

#include "scsi_test_util.h"

namespace scoria::target::testing {
namespace {

using scsi::Load16;
using scsi::Load32;
using scsi::Load64;

TEST_F(ScsiTest, UnknownOpcodeIsInvalidCommandOperationCode) {
  ScsiResult r = Run({0xc7});
  ExpectSense(r, 0x05, 0x20, 0x00);
  EXPECT_EQ(r.sense[0], 0x70);  // no INFORMATION
}

TEST_F(ScsiTest, ReservedCdbBitPointsAtByteAndBit) {
  // READ(10) with RDPROTECT=1 (byte 1 bit 5): no protection information.
  ScsiCommand c = Cdb10(0x28, 0, 1, 0x20);
  ScsiResult r = RunCmd(a_, std::move(c));
  ExpectSense(r, 0x05, 0x24, 0x00);
  EXPECT_EQ(r.sense[15], 0x80 | 0x40 | 0x08 | 5);  // SKSV, C/D, BPV, bit 5
  EXPECT_EQ(Load16(&r.sense[16]), 1);
}

TEST_F(ScsiTest, NewNexusGetsPowerOnResetOnceButInquiryIsExempt) {
  Nexus c{"iqn.c,i,0x2,t,1", "iqn.c"};
  ExpectGood(Run(c, {0x12, 0, 0, 0, 36}));  // INQUIRY never reports UA
  ExpectSense(Run(c, {0x00}), 0x06, 0x29, 0x00);
  ExpectGood(Run(c, {0x00}));
}

TEST_F(ScsiTest, RequestSenseReturnsAndClearsPendingUa) {
  Nexus c{"iqn.c,i,0x2,t,1", "iqn.c"};
  ScsiResult r = Run(c, {0x03, 0, 0, 0, 252});
  ExpectGood(r);
  ASSERT_EQ(r.data_in.size(), 18u);
  EXPECT_EQ(Byte(r, 2), 0x06);
  EXPECT_EQ(Byte(r, 12), 0x29);
  r = Run(c, {0x03, 0, 0, 0, 252});
  EXPECT_EQ(Byte(r, 2), 0x00);  // NO SENSE now
  ExpectGood(Run(c, {0x00}));
  // Allocation length truncates.
  EXPECT_EQ(Run(c, {0x03, 0, 0, 0, 8}).data_in.size(), 8u);
}

TEST_F(ScsiTest, CapacityChangedQueuesUaForEveryNexus) {
  dev_->SetSizeForRefresh(4096 * 512);
  lu_->CapacityChanged();
  EXPECT_EQ(lu_->BlockCount(), 4096u);
  ExpectSense(Run(a_, {0x00}), 0x06, 0x2a, 0x09);
  ExpectSense(Run(b_, {0x25}), 0x06, 0x2a, 0x09);
  ScsiResult r = Run(b_, {0x25});
  ExpectGood(r);
  EXPECT_EQ(Load32(reinterpret_cast<const uint8_t*>(r.data_in.data())), 4095u);
}

TEST_F(ScsiTest, ResetQueuesBusDeviceResetForOthersOnly) {
  lu_->Reset(a_);
  ExpectGood(Run(a_, {0x00}));
  ExpectSense(Run(b_, {0x00}), 0x06, 0x29, 0x03);
  ExpectGood(Run(b_, {0x00}));
}

TEST_F(ScsiTest, StandardInquiry) {
  ScsiResult r = Run({0x12, 0, 0, 0, 255});
  ExpectGood(r);
  ASSERT_EQ(r.data_in.size(), 96u);
  EXPECT_EQ(Byte(r, 0), 0x00);
  EXPECT_EQ(Byte(r, 1), 0x00);  // RMB=0
  EXPECT_EQ(Byte(r, 2), 0x06);
  EXPECT_EQ(Byte(r, 3), 0x12);  // HiSup, format 2
  EXPECT_EQ(Byte(r, 4), 91);
  EXPECT_EQ(Byte(r, 7), 0x02);  // CmdQue
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&r.data_in[8]), 8), "SCORIA  ");
  const auto* d = reinterpret_cast<const uint8_t*>(r.data_in.data());
  EXPECT_EQ(Load16(d + 58), 0x00a0);
  EXPECT_EQ(Load16(d + 64), 0x04c0);  // SBC-3
  // Truncated by the allocation length, never an error.
  EXPECT_EQ(Run({0x12, 0, 0, 0, 5}).data_in.size(), 5u);
}

TEST_F(ScsiTest, InquiryPageCodeWithoutEvpdIsInvalid) {
  ScsiResult r = Run({0x12, 0, 0x80, 0, 255});
  ExpectSense(r, 0x05, 0x24, 0x00);
  EXPECT_EQ(Load16(&r.sense[16]), 2);
  ExpectSense(Run({0x12, 0x02, 0, 0, 255}), 0x05, 0x24, 0x00);  // CmdDt
  ExpectSense(Run({0x12, 0x01, 0x42, 0, 255}), 0x05, 0x24, 0x00);  // unknown page
}

TEST_F(ScsiTest, VpdPages) {
  ScsiResult r = Run({0x12, 1, 0x00, 0, 255});
  ExpectGood(r);
  std::vector<uint8_t> pages(r.data_in.size() - 4);
  std::memcpy(pages.data(), &r.data_in[4], pages.size());
  EXPECT_EQ(pages, (std::vector<uint8_t>{0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2}));
  for (uint8_t p : pages) {
    ScsiResult pr = Run({0x12, 1, p, 0, 255});
    ExpectGood(pr);
    EXPECT_EQ(Byte(pr, 1), p);
    EXPECT_EQ(Load16(reinterpret_cast<const uint8_t*>(&pr.data_in[2])) + 4u, pr.data_in.size());
  }
  r = Run({0x12, 1, 0x80, 0, 255});
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&r.data_in[4]), r.data_in.size() - 4),
            "0b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0");
  r = Run({0x12, 1, 0x83, 0, 255});
  // First designator: NAA 6, LU association, binary, 16 bytes, OUI then uuid digits.
  EXPECT_EQ(Byte(r, 4), 0x01);
  EXPECT_EQ(Byte(r, 5), 0x03);
  EXPECT_EQ(Byte(r, 7), 16);
  EXPECT_EQ(Byte(r, 8), 0x60);
  EXPECT_EQ(Byte(r, 9), 0x01);
  EXPECT_EQ(Byte(r, 10), 0x40);
  EXPECT_EQ(Byte(r, 11), 0x50);  // OUI 001405, then the uuid's first digit 0
  EXPECT_EQ(Byte(r, 12), 0xb2);
  // Second: T10 vendor id, ASCII.
  EXPECT_EQ(Byte(r, 24), 0x02);
  EXPECT_EQ(Byte(r, 25), 0x01);
  r = Run({0x12, 1, 0xb0, 0, 255});
  const auto* d = reinterpret_cast<const uint8_t*>(r.data_in.data());
  EXPECT_EQ(Byte(r, 3), 0x3c);
  EXPECT_EQ(Load32(d + 8), (8u << 20) / 512);  // max transfer
  EXPECT_EQ(Load32(d + 20), 1u << 20);          // max unmap LBA count
  EXPECT_EQ(Load32(d + 24), 256u);
  // MAXIMUM WRITE SAME LENGTH: in [256, 65536) so that libiscsi's WriteSame16.Unmap does not
  // send a 65536-block WRITE(16) past MAXIMUM TRANSFER LENGTH (regression).
  EXPECT_EQ(Load64(d + 36), 0xffffu);
  r = Run({0x12, 1, 0xb1, 0, 255});
  EXPECT_EQ(Load16(reinterpret_cast<const uint8_t*>(&r.data_in[4])), 1);
  r = Run({0x12, 1, 0xb2, 0, 255});
  EXPECT_EQ(Byte(r, 5), 0xe4);
  EXPECT_EQ(Byte(r, 6), 0x02);
}

TEST_F(ScsiTest, ReadCapacity) {
  ScsiResult r = Run({0x25});
  ExpectGood(r);
  const auto* d = reinterpret_cast<const uint8_t*>(r.data_in.data());
  EXPECT_EQ(Load32(d), kBlocks - 1);
  EXPECT_EQ(Load32(d + 4), 512u);
  r = Run({0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32});
  ExpectGood(r);
  ASSERT_EQ(r.data_in.size(), 32u);
  d = reinterpret_cast<const uint8_t*>(r.data_in.data());
  EXPECT_EQ(Load64(d), kBlocks - 1);
  EXPECT_EQ(d[14], 0xc0);  // LBPME | LBPRZ
  for (uint8_t alloc = 0; alloc < 16; ++alloc) {
    ScsiResult t = Run({0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, alloc});
    ExpectGood(t);
    EXPECT_EQ(t.data_in.size(), alloc);
  }
  ExpectSense(Run({0x9e, 0x11}), 0x05, 0x24, 0x00);  // unknown service action
}

TEST_F(ScsiTest, ReportLuns) {
  ScsiResult r = Run({0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16});
  ExpectGood(r);
  ASSERT_EQ(r.data_in.size(), 16u);
  EXPECT_EQ(Load32(reinterpret_cast<const uint8_t*>(r.data_in.data())), 8u);
  ExpectSense(Run({0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 8}), 0x05, 0x24, 0x00);
  ExpectSense(Run({0xa0, 0, 0x07, 0, 0, 0, 0, 0, 0, 16}), 0x05, 0x24, 0x00);
}

TEST_F(ScsiTest, ModeSenseAllPages) {
  ScsiResult r = Run({0x1a, 0, 0x3f, 0, 255});
  ExpectGood(r);
  ASSERT_GE(r.data_in.size(), 4u + 8 + 20 + 12 + 12);
  EXPECT_EQ(Byte(r, 0) + 1u, r.data_in.size());
  EXPECT_EQ(Byte(r, 2), 0x10);  // DPOFUA, not WP
  EXPECT_EQ(Byte(r, 3), 8);
  EXPECT_EQ(Byte(r, 12), 0x08);  // caching page first
  EXPECT_EQ(Byte(r, 14) & 0x04, 0x04);  // WCE
  EXPECT_EQ(Byte(r, 32), 0x0a);
  // Truncation is not an error.
  EXPECT_EQ(Run({0x1a, 0, 0x3f, 0, 4}).data_in.size(), 4u);
  // DBD drops the block descriptor; saved values are not supported.
  EXPECT_EQ(Byte(Run({0x1a, 0x08, 0x08, 0, 255}), 3), 0);
  ExpectSense(Run({0x1a, 0, 0xc8, 0, 255}), 0x05, 0x39, 0x00);
  ExpectSense(Run({0x1a, 0, 0x19, 0, 255}), 0x05, 0x24, 0x00);
}

TEST_F(ScsiTest, ModeSense10LongLba) {
  ScsiResult r = Run({0x5a, 0x10, 0x08, 0, 0, 0, 0, 0x01, 0x00});
  ExpectGood(r);
  EXPECT_EQ(Byte(r, 4), 0x01);
  EXPECT_EQ(Load16(reinterpret_cast<const uint8_t*>(&r.data_in[6])), 16);
  EXPECT_EQ(Load64(reinterpret_cast<const uint8_t*>(&r.data_in[8])), kBlocks);
}

TEST_F(ScsiTest, ModeSelectSwpMakesUnitWriteProtected) {
  ScsiResult ms = Run({0x1a, 0x08, 0x0a, 0, 255});
  ExpectGood(ms);
  std::vector<std::byte> page(ms.data_in.begin(), ms.data_in.end());
  page[0] = std::byte{0};
  page[4 + 4] |= std::byte{0x08};  // SWP
  ExpectGood(Run({0x15, 0x10, 0, 0, uint8_t(page.size())}, page));
  EXPECT_EQ(Byte(Run({0x1a, 0, 0x3f, 0, 255}), 2) & 0x80, 0x80);  // WP
  ExpectSense(Write10(0, 1, 1), 0x07, 0x27, 0x02);
  ExpectGood(Read10(0, 1));
  ExpectSense(Run(b_, {0x00}), 0x06, 0x2a, 0x01);  // mode parameters changed
  page[4 + 4] &= std::byte{0xf7};
  ExpectGood(Run({0x15, 0x10, 0, 0, uint8_t(page.size())}, page));
  ExpectGood(Write10(0, 1, 1));
}

TEST_F(ScsiTest, ModeSelectRejectsUnchangeableBits) {
  ScsiResult ms = Run({0x1a, 0x08, 0x0a, 0, 255});
  std::vector<std::byte> page(ms.data_in.begin(), ms.data_in.end());
  page[0] = std::byte{0};
  page[4 + 2] |= std::byte{0x04};  // D_SENSE: not changeable
  ScsiResult r = Run({0x15, 0x10, 0, 0, uint8_t(page.size())}, page);
  ExpectSense(r, 0x05, 0x26, 0x00);
  EXPECT_EQ(r.sense[15], 0x80 | 0x08 | 2);  // parameter list, bit 2
  EXPECT_EQ(Load16(&r.sense[16]), 6);
  ExpectSense(Run({0x15, 0x11, 0, 0, uint8_t(page.size())}, page), 0x05, 0x24, 0x00);  // SP
}

TEST_F(ScsiTest, ModeSelectWceOffMakesWritesFua) {
  ScsiResult ms = Run({0x1a, 0x08, 0x08, 0, 255});
  std::vector<std::byte> page(ms.data_in.begin(), ms.data_in.end());
  page[0] = std::byte{0};
  page[4 + 2] &= std::byte{0xfb};
  ExpectGood(Run({0x15, 0x10, 0, 0, uint8_t(page.size())}, page));
  dev_->ClearCalls();
  ExpectGood(Write10(0, 1, 1));
  ASSERT_EQ(dev_->calls().size(), 1u);
  EXPECT_TRUE(dev_->calls()[0].flag);
}

TEST_F(ScsiTest, ReportSupportedOpcodesAll) {
  ScsiResult r = Run({0xa3, 0x0c, 0x00, 0, 0, 0, 0, 0, 0xff, 0xff});
  ExpectGood(r);
  const auto* d = reinterpret_cast<const uint8_t*>(r.data_in.data());
  const uint32_t len = Load32(d);
  ASSERT_EQ(len + 4, r.data_in.size());
  ASSERT_EQ(len % 8, 0u);
  bool saw_read16 = false;
  for (uint32_t off = 4; off < len + 4; off += 8) {
    if (d[off] == 0x88) saw_read16 = true;
    EXPECT_EQ(d[off + 5] & 0x02, 0);  // no timeouts without RCTD
    if (!(d[off + 5] & 0x01)) {
      EXPECT_EQ(Load16(d + off + 2), 0);
    }
  }
  EXPECT_TRUE(saw_read16);
  // With RCTD every descriptor carries a 12-byte timeouts descriptor.
  r = Run({0xa3, 0x0c, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff});
  d = reinterpret_cast<const uint8_t*>(r.data_in.data());
  EXPECT_EQ(d[4 + 5] & 0x02, 0x02);
  EXPECT_EQ(Load16(d + 4 + 8), 0x0a);
}

TEST_F(ScsiTest, ReportSupportedOpcodesOneCommand) {
  ScsiResult r = Run({0xa3, 0x0c, 0x01, 0x28, 0, 0, 0, 0, 0xff, 0xff});
  ExpectGood(r);
  EXPECT_EQ(Byte(r, 1) & 0x07, 3);
  EXPECT_EQ(Load16(reinterpret_cast<const uint8_t*>(&r.data_in[2])), 10);
  EXPECT_EQ(Byte(r, 4), 0x28);
  EXPECT_EQ(Byte(r, 5) & 0x18, 0x18);  // DPO/FUA usable
  // Option 1 for a service-action opcode, option 2 for a plain one: INVALID FIELD IN CDB.
  ExpectSense(Run({0xa3, 0x0c, 0x01, 0x9e, 0, 0x10, 0, 0, 0xff, 0xff}), 0x05, 0x24, 0x00);
  ExpectSense(Run({0xa3, 0x0c, 0x02, 0x28, 0, 0, 0, 0, 0xff, 0xff}), 0x05, 0x24, 0x00);
  r = Run({0xa3, 0x0c, 0x02, 0x9e, 0, 0x10, 0, 0, 0xff, 0xff});
  ExpectGood(r);
  EXPECT_EQ(Byte(r, 4), 0x9e);
  // Unsupported opcode: GOOD with SUPPORT = 1.
  r = Run({0xa3, 0x0c, 0x01, 0xc7, 0, 0, 0, 0, 0xff, 0xff});
  ExpectGood(r);
  EXPECT_EQ(Byte(r, 1) & 0x07, 1);
}

TEST_F(ScsiTest, StartStopAndPreventAllowAccepted) {
  ExpectGood(Run({0x1b, 0, 0, 0, 0x01}));
  ExpectGood(Run({0x1e, 0, 0, 0, 0x01}));
  ExpectGood(Run({0x1e, 0, 0, 0, 0x00}));
}

}  // namespace
}  // namespace scoria::target::testing
