// Reservations: RESERVE(6)/RELEASE(6) per nexus, and persistent reservations (register,
// reserve with each type and its access rules, release, clear, preempt, READ KEYS/RESERVATION/
// FULL STATUS, REPORT CAPABILITIES).
#include <cstring>

#include "scsi_test_util.h"

namespace scoria::target::testing {
namespace {

using scsi::Load32;
using scsi::Load64;

class PrTest : public ScsiTest {
 protected:
  ScsiResult Prout(const Nexus& n, uint8_t sa, uint8_t type, uint64_t key, uint64_t sa_key) {
    std::vector<uint8_t> p(24, 0);
    scsi::Store64(&p[0], key);
    scsi::Store64(&p[8], sa_key);
    std::vector<std::byte> data(24);
    std::memcpy(data.data(), p.data(), 24);
    return Run(n, {0x5f, sa, type, 0, 0, 0, 0, 0, 24}, data);
  }
  ScsiResult Prin(const Nexus& n, uint8_t sa, uint16_t alloc = 4096) {
    return Run(n, {0x5e, sa, 0, 0, 0, 0, 0, uint8_t(alloc >> 8), uint8_t(alloc)});
  }
  static const uint8_t* D(const ScsiResult& r) {
    return reinterpret_cast<const uint8_t*>(r.data_in.data());
  }
};

TEST_F(PrTest, Reserve6ConflictsForOtherNexus) {
  ExpectGood(Run(a_, {0x16}));
  ExpectGood(Run(a_, {0x16}));  // again by the holder
  EXPECT_EQ(Run(b_, {0x16}).status, kStatusReservationConflict);
  ExpectGood(Run(b_, {0x17}));  // release by a non-holder: GOOD, no effect
  EXPECT_EQ(Run(b_, {0x1a, 0, 0x3f, 0, 255}).status, kStatusReservationConflict);
  EXPECT_EQ(Read10(0, 1, &b_).status, kStatusReservationConflict);
  ExpectGood(Run(b_, {0x12, 0, 0, 0, 36}));  // INQUIRY always allowed
  ExpectGood(Run(a_, {0x1a, 0, 0x3f, 0, 255}));
  ExpectGood(Run(a_, {0x17}));
  ExpectGood(Run(b_, {0x16}));
  ExpectGood(Run(b_, {0x17}));
}

TEST_F(PrTest, Reserve6ReleasedByResetAndNexusLoss) {
  ExpectGood(Run(a_, {0x16}));
  lu_->Reset(b_);
  ExpectSense(Run(a_, {0x00}), 0x06, 0x29, 0x03);
  ExpectGood(Run(b_, {0x16}));
  lu_->NexusLost(b_);
  ExpectGood(Run(a_, {0x16}));
}

TEST_F(PrTest, RegisterReadKeysAndGeneration) {
  ExpectGood(Prout(a_, 0, 0, 0, 0xaa));
  ExpectGood(Prout(b_, 6, 0, 0, 0xbb));
  ScsiResult r = Prin(a_, 0);
  ExpectGood(r);
  EXPECT_EQ(Load32(D(r)), 2u);
  EXPECT_EQ(Load32(D(r) + 4), 16u);
  EXPECT_EQ(Load64(D(r) + 8), 0xaau);
  EXPECT_EQ(Load64(D(r) + 16), 0xbbu);
  // Wrong existing key: conflict; REGISTER AND IGNORE: fine.
  EXPECT_EQ(Prout(a_, 0, 0, 0x11, 0xcc).status, kStatusReservationConflict);
  ExpectGood(Prout(a_, 6, 0, 0x11, 0xcc));
  // Truncated READ KEYS keeps ADDITIONAL LENGTH.
  r = Prin(a_, 0, 8);
  ASSERT_EQ(r.data_in.size(), 8u);
  EXPECT_EQ(Load32(D(r) + 4), 16u);
  // Unregister.
  ExpectGood(Prout(a_, 0, 0, 0xcc, 0));
  EXPECT_EQ(Load32(D(Prin(a_, 0)) + 4), 8u);
}

TEST_F(PrTest, ServiceActionRangeAndCapabilities) {
  for (uint8_t sa = 0; sa < 4; ++sa) ExpectGood(Prin(a_, sa));
  for (uint8_t sa = 4; sa < 0x20; ++sa) EXPECT_EQ(Prin(a_, sa).status, kStatusCheckCondition);
  ScsiResult r = Prin(a_, 2);
  ASSERT_EQ(r.data_in.size(), 8u);
  EXPECT_EQ(scsi::Load16(D(r)), 8);
  EXPECT_EQ(D(r)[4], 0xea);
  EXPECT_EQ(D(r)[5], 0x01);
}

struct AccessCase {
  uint8_t type;
  bool reg_read, reg_write, unreg_read, unreg_write;
};

TEST_F(PrTest, AccessRulesForEveryType) {
  const AccessCase cases[] = {
      {3, false, false, false, false},  // EA
      {1, true, false, true, false},    // WE
      {6, true, true, false, false},    // EARO
      {5, true, true, true, false},     // WERO
      {8, true, true, false, false},    // EAAR
      {7, true, true, true, false},     // WEAR
  };
  for (const AccessCase& c : cases) {
    SCOPED_TRACE(int(c.type));
    ExpectGood(Prout(a_, 6, 0, 0, 0x1));
    ExpectGood(Prout(b_, 6, 0, 0, 0x2));
    ExpectGood(Prout(a_, 1, c.type, 0x1, 0));
    ScsiResult rr = Prin(a_, 1);
    EXPECT_EQ(Load32(D(rr) + 4), 16u);
    EXPECT_EQ(Load64(D(rr) + 8), (c.type >= 7) ? 0u : 0x1u);
    EXPECT_EQ(D(rr)[21], c.type);
    ExpectGood(Read10(0, 1));
    ExpectGood(Write10(0, 1, 1));
    EXPECT_EQ(Read10(1, 1, &b_).status == kStatusGood, c.reg_read);
    ScsiCommand w = Cdb10(0x2a, 1, 1);
    w.data_out = Fill(512, 2);
    EXPECT_EQ(RunCmd(b_, std::move(w)).status == kStatusGood, c.reg_write);
    ExpectGood(Prout(b_, 0, 0, 0x2, 0));  // unregister b
    EXPECT_EQ(Read10(1, 1, &b_).status == kStatusGood, c.unreg_read);
    w = Cdb10(0x2a, 1, 1);
    w.data_out = Fill(512, 2);
    ScsiResult wr = RunCmd(b_, std::move(w));
    EXPECT_EQ(wr.status == kStatusGood, c.unreg_write);
    if (!c.unreg_write) {
      EXPECT_EQ(wr.status, kStatusReservationConflict);
    }
    ExpectGood(Prout(a_, 2, c.type, 0x1, 0));  // release
    ExpectGood(Prout(a_, 0, 0, 0x1, 0));       // unregister
    EXPECT_EQ(Load32(D(Prin(a_, 1)) + 4), 0u);
    Run(a_, {0x00});  // clear any UA
    Run(b_, {0x00});
    Run(b_, {0x00});
  }
}

TEST_F(PrTest, HolderUnregisteringReleasesUnlessAllRegistrants) {
  ExpectGood(Prout(a_, 6, 0, 0, 0x1));
  ExpectGood(Prout(b_, 6, 0, 0, 0x2));
  ExpectGood(Prout(a_, 1, 3, 0x1, 0));
  ExpectGood(Prout(a_, 0, 0, 0x1, 0));
  EXPECT_EQ(Load32(D(Prin(a_, 1)) + 4), 0u);  // released
  ExpectGood(Prout(a_, 6, 0, 0, 0x1));
  ExpectGood(Prout(a_, 1, 8, 0x1, 0));  // EAAR
  ExpectGood(Prout(a_, 0, 0, 0x1, 0));
  EXPECT_EQ(Load32(D(Prin(b_, 1)) + 4), 16u);  // still reserved for b
  ExpectGood(Prout(b_, 2, 8, 0x2, 0));         // any registrant may release
  EXPECT_EQ(Load32(D(Prin(b_, 1)) + 4), 0u);
}

TEST_F(PrTest, ReserveConflictsAndReleaseTypeMismatch) {
  ExpectGood(Prout(a_, 6, 0, 0, 0x1));
  ExpectGood(Prout(b_, 6, 0, 0, 0x2));
  EXPECT_EQ(Prout(a_, 1, 1, 0x9, 0).status, kStatusReservationConflict);  // wrong key
  ExpectGood(Prout(a_, 1, 1, 0x1, 0));
  EXPECT_EQ(Prout(b_, 1, 1, 0x2, 0).status, kStatusReservationConflict);
  ExpectSense(Prout(a_, 2, 3, 0x1, 0), 0x05, 0x26, 0x04);
  ExpectSense(Prout(a_, 1, 2, 0x1, 0), 0x05, 0x24, 0x00);  // type 2 is obsolete
  EXPECT_EQ(Run(b_, {0x16}).status, kStatusReservationConflict);  // RESERVE(6) vs PR
}

TEST_F(PrTest, ClearAndPreempt) {
  ExpectGood(Prout(a_, 6, 0, 0, 0x1));
  ExpectGood(Prout(b_, 6, 0, 0, 0x2));
  const uint32_t gen = Load32(D(Prin(a_, 0)));
  ExpectGood(Prout(b_, 4, 3, 0x2, 0x1));  // b preempts a's registration
  ExpectSense(Run(a_, {0x00}), 0x06, 0x2a, 0x05);
  ScsiResult r = Prin(b_, 0);
  EXPECT_EQ(Load32(D(r)), gen + 1);
  EXPECT_EQ(Load32(D(r) + 4), 8u);
  EXPECT_EQ(Load64(D(r) + 8), 0x2u);
  EXPECT_EQ(Prout(b_, 4, 3, 0x2, 0x77).status, kStatusReservationConflict);  // no such key
  // Preempting the holder moves the reservation.
  ExpectGood(Prout(a_, 6, 0, 0, 0x1));
  ExpectGood(Prout(a_, 1, 1, 0x1, 0));
  ExpectGood(Prout(b_, 4, 3, 0x2, 0x1));
  r = Prin(b_, 1);
  EXPECT_EQ(Load64(D(r) + 8), 0x2u);
  EXPECT_EQ(D(r)[21], 3);
  // CLEAR drops everything.
  Run(a_, {0x00});
  ExpectGood(Prout(b_, 3, 0, 0x2, 0));
  EXPECT_EQ(Load32(D(Prin(a_, 0)) + 4), 0u);
  EXPECT_EQ(Load32(D(Prin(a_, 1)) + 4), 0u);
}

TEST_F(PrTest, ReadFullStatusNamesInitiators) {
  ExpectGood(Prout(a_, 6, 0, 0, 0x1));
  ExpectGood(Prout(a_, 1, 1, 0x1, 0));
  ScsiResult r = Prin(a_, 3);
  ExpectGood(r);
  const uint8_t* d = D(r);
  EXPECT_EQ(Load64(d + 8), 0x1u);
  EXPECT_EQ(d[8 + 12] & 0x01, 0x01);  // R_HOLDER
  EXPECT_EQ(d[8 + 13], 1);
  EXPECT_EQ(d[8 + 24], 0x05);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(d + 8 + 28)), a_.initiator_name);
}

TEST_F(PrTest, ParameterListErrors) {
  ExpectSense(Run(a_, {0x5f, 0, 0, 0, 0, 0, 0, 0, 20}, Fill(20, 0)), 0x05, 0x1a, 0x00);
  std::vector<std::byte> aptpl(24);
  aptpl[20] = std::byte{0x01};
  ExpectSense(Run(a_, {0x5f, 6, 0, 0, 0, 0, 0, 0, 24}, aptpl), 0x05, 0x26, 0x00);
}

}  // namespace
}  // namespace scoria::target::testing
