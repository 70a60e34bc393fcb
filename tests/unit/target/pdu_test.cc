#include "target/pdu.h"
#include "target/pdu_build.h"
#include "target/pdu_parser.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

namespace scoria::target {
namespace {

const TargetSn kSn{100, 200, 327};

std::vector<ReceivedPdu> ParseAll(const std::vector<uint8_t>& wire, ParserOptions opts,
                                  size_t chunk = SIZE_MAX) {
  PduParser p(opts);
  std::vector<ReceivedPdu> out;
  for (size_t pos = 0; pos < wire.size();) {
    size_t n = std::min(chunk, wire.size() - pos);
    auto r = p.Feed({wire.data() + pos, n}, &out);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) break;
    EXPECT_EQ(*r, n);
    pos += n;
  }
  EXPECT_TRUE(p.idle());
  return out;
}

void ExpectSame(const Pdu& a, const Pdu& b) {
  EXPECT_EQ(a.bhs(), b.bhs());
  EXPECT_EQ(a.ahs(), b.ahs());
  EXPECT_TRUE(std::equal(a.data().begin(), a.data().end(), b.data().begin(), b.data().end()));
}

std::vector<uint8_t> Seq(size_t n) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), 1);
  return v;
}

// Every target PDU builder, to round-trip through encoder and parser.
std::vector<Pdu> AllBuilders(const std::vector<uint8_t>& payload) {
  std::vector<Pdu> v;
  LoginResponseFields lf;
  lf.transit = true;
  lf.csg = 1;
  lf.nsg = 3;
  lf.isid = {0x80, 1, 2, 3, 4, 5};
  lf.tsih = 7;
  lf.itt = 0x11;
  lf.sn = kSn;
  v.push_back(BuildLoginResponse(lf, {'A', '=', 'B', 0}));
  v.push_back(BuildTextResponse(0x12, kReservedTag, true, false, 0, kSn, {'C', '=', 'D', 0}));
  ScsiResponseFields sf;
  sf.itt = 0x13;
  sf.status = 0x02;
  sf.underflow = true;
  sf.residual_count = 512;
  sf.exp_data_sn = 3;
  sf.sn = kSn;
  std::vector<uint8_t> sense = {0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0};
  v.push_back(BuildScsiResponse(sf, sense));
  DataInFields df;
  df.itt = 0x14;
  df.data_sn = 2;
  df.buffer_offset = 8192;
  df.status = 0;
  df.sn = kSn;
  v.push_back(BuildDataIn(df, std::span<const uint8_t>(payload)));
  R2tFields rf;
  rf.itt = 0x15;
  rf.ttt = 0x99;
  rf.r2t_sn = 1;
  rf.buffer_offset = 4096;
  rf.desired_length = 65536;
  rf.lun = EncodeLun(1);
  rf.sn = kSn;
  v.push_back(BuildR2t(rf));
  v.push_back(BuildNopIn(0x16, kReservedTag, 0, kSn, {1, 2, 3}));
  v.push_back(BuildLogoutResponse(0x17, kLogoutRespSuccess, 2, 20, kSn));
  Pdu offending(Opcode::kScsiCommand);
  offending.set_itt(0x42);
  v.push_back(BuildReject(kRejectDataDigest, offending.bhs(), kSn));
  v.push_back(BuildTmfResponse(0x18, kTmfRespComplete, kSn));
  AsyncMessageFields af;
  af.parameter3 = 20;
  af.sn = kSn;
  v.push_back(BuildAsyncMessage(af, {}));
  return v;
}

TEST(PduTest, BhsFieldsAreBigEndianAtRfcOffsets) {
  Pdu p(Opcode::kScsiCommand);
  p.set_immediate(true);
  p.set_flags(kFinalBit | kCmdReadBit | 1);
  p.set_lun(EncodeLun(3));
  p.set_itt(0x01020304);
  p.set_edtl(0x00001000);
  p.set_cmd_sn(0x0a0b0c0d);
  p.set_exp_stat_sn(5);
  const Bhs& b = p.bhs();
  EXPECT_EQ(b[0], 0x41);
  EXPECT_EQ(b[1], 0xc1);
  EXPECT_EQ(b[9], 3);
  EXPECT_EQ(b[16], 1);
  EXPECT_EQ(b[19], 4);
  EXPECT_EQ(b[22], 0x10);
  EXPECT_EQ(b[24], 0x0a);
  EXPECT_EQ(b[31], 5);
  EXPECT_TRUE(p.immediate());
  EXPECT_TRUE(p.read_bit());
  EXPECT_FALSE(p.write_bit());
  EXPECT_EQ(p.task_attribute(), 1);
  EXPECT_EQ(DecodeLun(p.lun()), 3);
}

TEST(PduTest, LunEncoding) {
  for (uint16_t lun : {0, 1, 255, 256, 1000, 16383}) EXPECT_EQ(DecodeLun(EncodeLun(lun)), lun);
  EXPECT_EQ(EncodeLun(256) >> 56, 0x41u);
}

TEST(PduTest, LoginFields) {
  Pdu p(Opcode::kLoginRequest);
  p.set_login_flags(true, false, 1, 3);
  EXPECT_EQ(p.flags(), 0x87);
  EXPECT_TRUE(p.transit());
  EXPECT_EQ(p.csg(), 1);
  EXPECT_EQ(p.nsg(), 3);
  p.set_isid({0x80, 0x12, 0x34, 0x56, 0x78, 0x9a});
  p.set_tsih(0x1234);
  p.set_cid(7);
  EXPECT_EQ(p.bhs()[8], 0x80);
  EXPECT_EQ(p.bhs()[13], 0x9a);
  EXPECT_EQ(p.tsih(), 0x1234);
  EXPECT_EQ(p.cid(), 7);
  EXPECT_EQ(p.isid()[5], 0x9a);
}

TEST(PduTest, ScsiResponseCarriesSenseWithLength) {
  ScsiResponseFields f;
  f.itt = 9;
  f.status = 0x02;
  f.sn = kSn;
  std::vector<uint8_t> sense(18, 0x70);
  Pdu p = BuildScsiResponse(f, sense);
  ASSERT_EQ(p.data().size(), 20u);
  EXPECT_EQ(p.data()[0], 0);
  EXPECT_EQ(p.data()[1], 18);
  EXPECT_EQ(p.scsi_status(), 0x02);
  EXPECT_EQ(p.stat_sn(), 100u);
  EXPECT_EQ(p.exp_cmd_sn(), 200u);
  EXPECT_EQ(p.max_cmd_sn(), 327u);
  EXPECT_EQ(p.flags(), kFinalBit);
  EXPECT_EQ(p.residual_count(), 0u);
}

TEST(PduTest, DataInPhaseCollapse) {
  DataInFields f;
  f.itt = 1;
  f.status = 0;
  f.underflow = true;
  f.residual_count = 100;
  f.sn = kSn;
  std::vector<uint8_t> d(10);
  Pdu p = BuildDataIn(f, std::span<const uint8_t>(d));
  EXPECT_EQ(p.flags(), kFinalBit | kStatusBit | kUnderflowBit);
  EXPECT_EQ(p.residual_count(), 100u);
  EXPECT_EQ(p.stat_sn(), 100u);
  EXPECT_EQ(p.data().data(), d.data());  // zero copy
  DataInFields g;
  g.itt = 1;
  g.sn = kSn;
  Pdu q = BuildDataIn(g, std::vector<uint8_t>(4));
  EXPECT_EQ(q.flags(), 0);
  EXPECT_EQ(q.stat_sn(), 0u);  // reserved without S
}

TEST(PduTest, RejectQuotesHeader) {
  Pdu bad(Opcode::kScsiCommand);
  bad.set_itt(77);
  Pdu r = BuildReject(kRejectProtocolError, bad.bhs(), kSn);
  EXPECT_EQ(r.reject_reason(), kRejectProtocolError);
  EXPECT_EQ(r.itt(), kReservedTag);
  ASSERT_EQ(r.data().size(), kBhsLength);
  EXPECT_TRUE(std::equal(r.data().begin(), r.data().end(), bad.bhs().begin()));
}

TEST(PduTest, EncodingPadsAndSetsLengths) {
  Pdu p(Opcode::kNopIn);
  p.set_data({1, 2, 3, 4, 5});
  std::vector<uint8_t> wire;
  EncodeTo(p, {}, &wire);
  ASSERT_EQ(wire.size(), 48u + 8u);
  EXPECT_EQ(wire[7], 5);
  EXPECT_EQ(wire[53], 0);
  EXPECT_EQ(EncodedSize(p, {}), wire.size());
  EXPECT_EQ(EncodedSize(p, {true, true}), wire.size() + 8);
  // No data: no data digest.
  Pdu q(Opcode::kNopIn);
  EXPECT_EQ(EncodedSize(q, {true, true}), 52u);
}

TEST(PduTest, DigestsOnTheWire) {
  Pdu p(Opcode::kNopIn);
  p.set_data({1, 2, 3, 4, 5});
  EncodedPdu e(p, {true, true});
  auto wire = e.Flatten();
  ASSERT_EQ(wire.size(), 48u + 4 + 8 + 4);
  EXPECT_EQ(LoadDigest(&wire[48]), Crc32c({wire.data(), 48}));
  EXPECT_EQ(LoadDigest(&wire[60]), Crc32c({wire.data() + 52, 8}));
  std::vector<iovec> iov;
  e.AppendIovecs(&iov);
  ASSERT_EQ(iov.size(), 3u);
  EXPECT_EQ(iov[1].iov_base, p.data().data());
}

class RoundTripTest : public ::testing::TestWithParam<DigestConfig> {};

TEST_P(RoundTripTest, EveryBuilderWholeByteByByteAndRandomChunks) {
  DigestConfig dc = GetParam();
  auto payload = Seq(1001);
  auto pdus = AllBuilders(payload);
  std::vector<uint8_t> wire;
  for (const auto& p : pdus) EncodeTo(p, dc, &wire);
  ParserOptions opts;
  opts.digests = dc;
  for (size_t chunk : {SIZE_MAX, size_t{1}, size_t{7}, size_t{49}, size_t{4096}}) {
    auto got = ParseAll(wire, opts, chunk);
    ASSERT_EQ(got.size(), pdus.size()) << chunk;
    for (size_t i = 0; i < pdus.size(); ++i) {
      EXPECT_FALSE(got[i].data_digest_error);
      ExpectSame(got[i].pdu, pdus[i]);
    }
  }
  std::mt19937 rng(42);
  PduParser p(opts);
  std::vector<ReceivedPdu> out;
  for (size_t pos = 0; pos < wire.size();) {
    size_t n = std::min<size_t>(wire.size() - pos, 1 + rng() % 300);
    ASSERT_TRUE(p.Feed({wire.data() + pos, n}, &out).ok());
    pos += n;
  }
  ASSERT_EQ(out.size(), pdus.size());
}

INSTANTIATE_TEST_SUITE_P(Digests, RoundTripTest,
                         ::testing::Values(DigestConfig{false, false}, DigestConfig{true, false},
                                           DigestConfig{false, true}, DigestConfig{true, true}));

TEST(PduParserTest, MaxPdusStopsAndReportsConsumed) {
  std::vector<uint8_t> wire;
  Pdu a(Opcode::kNopOut);
  EncodeTo(a, {}, &wire);
  EncodeTo(a, {}, &wire);
  PduParser p;
  std::vector<ReceivedPdu> out;
  auto r = p.Feed(wire, &out, 1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 48u);
  EXPECT_EQ(out.size(), 1u);
  // Switch digests between PDUs: the second PDU was sent without, so re-feeding with header
  // digests on must fail.
  p.set_digests({true, false});
  std::vector<uint8_t> more;
  EncodeTo(a, {true, false}, &more);
  EXPECT_TRUE(p.Feed(more, &out).ok());
  EXPECT_EQ(out.size(), 2u);
}

TEST(PduParserTest, BadHeaderDigestIsFatal) {
  Pdu a(Opcode::kNopOut);
  std::vector<uint8_t> wire;
  EncodeTo(a, {true, false}, &wire);
  wire[48] ^= 1;
  PduParser p({8192, {true, false}});
  std::vector<ReceivedPdu> out;
  EXPECT_FALSE(p.Feed(wire, &out).ok());
  EXPECT_EQ(p.error(), ParseError::kHeaderDigest);
  EXPECT_FALSE(p.Feed(wire, &out).ok());  // stays failed
  EXPECT_TRUE(out.empty());
}

TEST(PduParserTest, BadDataDigestIsReportedAndStreamContinues) {
  Pdu a(Opcode::kScsiCommand);
  a.set_itt(5);
  a.set_data(Seq(100));
  Pdu b(Opcode::kNopOut);
  b.set_itt(6);
  std::vector<uint8_t> wire;
  EncodeTo(a, {false, true}, &wire);
  wire[60] ^= 0xff;  // corrupt data
  EncodeTo(b, {false, true}, &wire);
  PduParser p({8192, {false, true}});
  std::vector<ReceivedPdu> out;
  ASSERT_TRUE(p.Feed(wire, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].data_digest_error);
  EXPECT_EQ(out[0].pdu.itt(), 5u);
  EXPECT_TRUE(out[0].pdu.data().empty());
  EXPECT_FALSE(out[1].data_digest_error);
  EXPECT_EQ(out[1].pdu.itt(), 6u);
}

TEST(PduParserTest, OversizedSegmentRejectedBeforeAllocation) {
  Pdu a(Opcode::kScsiCommand);
  a.set_data(Seq(8193));
  std::vector<uint8_t> wire;
  EncodeTo(a, {}, &wire);
  PduParser p({8192, {}});
  std::vector<ReceivedPdu> out;
  EXPECT_FALSE(p.Feed({wire.data(), 48}, &out).ok());
  EXPECT_EQ(p.error(), ParseError::kDataSegmentTooLong);
}

TEST(PduParserTest, TruncatedHeaderWaits) {
  Pdu a(Opcode::kNopOut);
  std::vector<uint8_t> wire;
  EncodeTo(a, {}, &wire);
  PduParser p;
  std::vector<ReceivedPdu> out;
  ASSERT_TRUE(p.Feed({wire.data(), 47}, &out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(p.idle());
  ASSERT_TRUE(p.Feed({wire.data() + 47, 1}, &out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(PduParserTest, DataSinkReceivesDataInPlace) {
  std::vector<uint8_t> task_buffer(4096, 0xee);
  Pdu a(Opcode::kDataOut);
  a.set_itt(1);
  a.set_buffer_offset(1000);
  a.set_data(Seq(1001));  // padded on the wire
  Pdu nop(Opcode::kNopOut);
  nop.set_data({9, 9});
  for (DigestConfig dc : {DigestConfig{false, false}, DigestConfig{true, true}}) {
    std::vector<uint8_t> wire;
    EncodeTo(a, dc, &wire);
    EncodeTo(nop, dc, &wire);
    PduParser p({8192, dc});
    int calls = 0;
    p.set_data_sink([&](const Bhs& bhs, uint32_t len) -> std::span<uint8_t> {
      ++calls;
      Pdu h(bhs);
      if (h.opcode() != Opcode::kDataOut) return {};
      return {task_buffer.data() + h.buffer_offset(), len};
    });
    std::vector<ReceivedPdu> out;
    for (uint8_t b : wire) ASSERT_TRUE(p.Feed({&b, 1}, &out).ok());
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(calls, 2);
    EXPECT_FALSE(out[0].data_digest_error);
    EXPECT_EQ(out[0].pdu.data().data(), task_buffer.data() + 1000);
    EXPECT_TRUE(std::equal(a.data().begin(), a.data().end(), task_buffer.begin() + 1000));
    EXPECT_EQ(task_buffer[2001], 0xee);  // padding not written
    EXPECT_EQ(out[1].pdu.data().size(), 2u);
  }
}

TEST(PduParserTest, AhsExtendedCdbAndBadAhs) {
  Pdu a(Opcode::kScsiCommand);
  for (int i = 0; i < 16; ++i) a.mutable_cdb()[i] = static_cast<uint8_t>(i);
  // 32-byte CDB: AHSLength = 17 (reserved + 16 bytes), entry = 20 bytes.
  std::vector<uint8_t> ahs = {0, 17, kAhsExtendedCdb, 0};
  for (int i = 16; i < 32; ++i) ahs.push_back(static_cast<uint8_t>(i));
  a.set_ahs(ahs);
  std::vector<uint8_t> wire;
  EncodeTo(a, {true, false}, &wire);
  auto got = ParseAll(wire, {8192, {true, false}});
  ASSERT_EQ(got.size(), 1u);
  auto cdb = got[0].pdu.FullCdb();
  ASSERT_TRUE(cdb.ok());
  ASSERT_EQ(cdb->size(), 32u);
  EXPECT_EQ((*cdb)[31], 31);

  Pdu bad(Opcode::kScsiCommand);
  bad.set_ahs({0, 40, kAhsExtendedCdb, 0});  // claims more than TotalAHSLength
  wire.clear();
  EncodeTo(bad, {}, &wire);
  PduParser p;
  std::vector<ReceivedPdu> out;
  EXPECT_FALSE(p.Feed(wire, &out).ok());
  EXPECT_EQ(p.error(), ParseError::kBadAhs);
}

}  // namespace
}  // namespace scoria::target
