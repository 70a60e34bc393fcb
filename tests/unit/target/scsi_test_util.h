// Helpers for the SCSI logical unit tests: a unit over a FakeBlockDevice, CDB builders, and a
// synchronous Run() (the fake completes inline unless held).
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <optional>
#include <vector>

#include "target/logical_unit.h"
#include "target/scsi_cdb.h"
#include "fake_block_device.h"

namespace scoria::target::testing {

inline constexpr uint64_t kBlocks = 2048;  // 1 MiB of 512-byte blocks

class ScsiTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(UnitConfig{}); }

  void Make(UnitConfig config) {
    if (config.volume_id.empty()) config.volume_id = "0b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0";
    dev_ = std::make_shared<FakeBlockDevice>(kBlocks * 512);
    lu_ = NewLogicalUnit(dev_, config);
    // Clear the POWER ON unit attention of the default nexuses.
    Run(a_, {0x00});
    Run(b_, {0x00});
  }

  // Runs a CDB (bytes given, the rest zero) and returns the result.
  ScsiResult Run(const Nexus& n, std::initializer_list<uint8_t> cdb,
                 std::vector<std::byte> data = {}) {
    ScsiCommand cmd;
    size_t i = 0;
    for (uint8_t b : cdb) cmd.cdb[i++] = b;
    cmd.cdb_length = 16;
    cmd.data_out = std::move(data);
    return RunCmd(n, std::move(cmd));
  }
  ScsiResult RunCmd(const Nexus& n, ScsiCommand cmd) {
    std::optional<ScsiResult> out;
    lu_->Execute(n, std::move(cmd), [&](ScsiResult r) { out = std::move(r); });
    EXPECT_TRUE(out.has_value()) << "command did not complete inline";
    return out ? std::move(*out) : ScsiResult{};
  }
  ScsiResult Run(std::initializer_list<uint8_t> cdb, std::vector<std::byte> data = {}) {
    return Run(a_, cdb, std::move(data));
  }

  // public: free helpers in the tests build CDBs too.
 public:
  static ScsiCommand Cdb16(uint8_t opcode, uint64_t lba, uint32_t len, uint8_t flags = 0) {
    ScsiCommand c;
    c.cdb[0] = opcode;
    c.cdb[1] = flags;
    scsi::Store64(&c.cdb[2], lba);
    scsi::Store32(&c.cdb[10], len);
    c.cdb_length = 16;
    return c;
  }
  static ScsiCommand Cdb10(uint8_t opcode, uint32_t lba, uint16_t len, uint8_t flags = 0) {
    ScsiCommand c;
    c.cdb[0] = opcode;
    c.cdb[1] = flags;
    scsi::Store32(&c.cdb[2], lba);
    scsi::Store16(&c.cdb[7], len);
    c.cdb_length = 10;
    return c;
  }
  static std::vector<std::byte> Fill(size_t n, uint8_t v) {
    return std::vector<std::byte>(n, std::byte{v});
  }
 protected:
  ScsiResult Write10(uint32_t lba, uint16_t blocks, uint8_t v, uint8_t flags = 0) {
    ScsiCommand c = Cdb10(0x2a, lba, blocks, flags);
    c.data_out = Fill(size_t(blocks) * 512, v);
    return RunCmd(a_, std::move(c));
  }
  ScsiResult Read10(uint32_t lba, uint16_t blocks, const Nexus* n = nullptr) {
    return RunCmd(n ? *n : a_, Cdb10(0x28, lba, blocks));
  }

  std::shared_ptr<FakeBlockDevice> dev_;
  std::unique_ptr<LogicalUnit> lu_;
  Nexus a_{"iqn.a,i,0x1,t,1", "iqn.2024-01.test:a"};
  Nexus b_{"iqn.b,i,0x1,t,1", "iqn.2024-01.test:b"};
};

// Asserts CHECK CONDITION with fixed-format sense key/ASC/ASCQ.
inline void ExpectSense(const ScsiResult& r, uint8_t key, uint8_t asc, uint8_t ascq) {
  ASSERT_EQ(r.status, kStatusCheckCondition);
  ASSERT_EQ(r.sense.size(), 18u);
  EXPECT_EQ(r.sense[0] & 0x7f, 0x70);
  EXPECT_EQ(r.sense[2], key);
  EXPECT_EQ(r.sense[7], 10);
  EXPECT_EQ(r.sense[12], asc);
  EXPECT_EQ(r.sense[13], ascq);
}

inline void ExpectGood(const ScsiResult& r) {
  EXPECT_EQ(r.status, kStatusGood) << "sense key " << (r.sense.size() > 13 ? int(r.sense[2]) : -1)
                                   << " asc " << (r.sense.size() > 13 ? int(r.sense[12]) : -1);
}

inline uint8_t Byte(const ScsiResult& r, size_t i) {
  EXPECT_LT(i, r.data_in.size());
  return i < r.data_in.size() ? uint8_t(r.data_in[i]) : 0;
}

}  // namespace scoria::target::testing
