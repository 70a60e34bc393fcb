// libFuzzer target for PduParser and the encoder (tests/fuzz/run.sh).
//
// Input: byte 0 selects the parser options (bit 0 header digest, bit 1 data digest, bit 2 a
// 512-byte segment limit instead of 8192, bit 3 max_pdus = 1 with re-feeding, bit 4 a data
// sink that lands data segments in caller buffers), byte 1 the
// chunk size the stream is fed in (0 = all at once); the rest is the byte stream. Every
// parsed PDU is encoded again with the same digests and must parse back to the same PDU.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <vector>

#include "target/pdu.h"
#include "target/pdu_build.h"
#include "target/pdu_parser.h"

using namespace scoria::target;

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void RoundTrip(const Pdu& pdu, const ParserOptions& opts) {
  std::vector<uint8_t> wire;
  EncodeTo(pdu, opts.digests, &wire);
  Check(wire.size() == EncodedSize(pdu, opts.digests));
  EncodedPdu enc(pdu, opts.digests);
  Check(enc.Flatten() == wire);
  PduParser again(opts);
  std::vector<ReceivedPdu> out;
  auto r = again.Feed(wire, &out);
  Check(r.ok() && *r == wire.size() && out.size() == 1 && again.idle());
  const Pdu& back = out[0].pdu;
  Check(!out[0].data_digest_error);
  Check(back.bhs() == pdu.bhs());
  Check(back.ahs() == pdu.ahs());
  Check(std::equal(back.data().begin(), back.data().end(), pdu.data().begin(), pdu.data().end()));
  // Exercise the accessors that interpret fields.
  (void)back.FullCdb();
  (void)DecodeLun(back.lun());
  (void)OpcodeName(back.raw_opcode());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  ParserOptions opts;
  opts.digests.header = data[0] & 1;
  opts.digests.data = data[0] & 2;
  opts.max_data_segment_length = (data[0] & 4) ? 512 : 8192;
  size_t max_pdus = (data[0] & 8) ? 1 : SIZE_MAX;
  size_t chunk = data[1] == 0 ? size : data[1];
  data += 2;
  size -= 2;

  PduParser parser(opts);
  std::deque<std::vector<uint8_t>> sink_buffers;  // must outlive `out`
  if (mode & 16) {
    parser.set_data_sink([&](const Bhs&, uint32_t len) -> std::span<uint8_t> {
      if (len % 3 == 0) return {};  // sometimes decline
      sink_buffers.emplace_back(len);
      return sink_buffers.back();
    });
  }
  std::vector<ReceivedPdu> out;
  size_t pos = 0;
  while (pos < size) {
    size_t n = std::min(chunk, size - pos);
    auto r = parser.Feed({data + pos, n}, &out, max_pdus);
    if (!r.ok()) {
      Check(parser.error() != ParseError::kNone);
      break;
    }
    Check(*r <= n);
    Check(*r > 0 || n == 0);
    pos += *r;
  }
  for (const ReceivedPdu& r : out) {
    if (!r.data_digest_error) RoundTrip(r.pdu, opts);
    // What the session layer would answer with.
    Pdu reject = BuildReject(kRejectProtocolError, r.pdu.bhs(), {});
    std::vector<uint8_t> w;
    EncodeTo(reject, opts.digests, &w);
  }
  return 0;
}
