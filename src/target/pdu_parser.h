// The receive path of iSCSI PDUs (RFC 7143 §11): an incremental parser that frames the TCP
// stream into Pdus (pdu.h), checking and stripping padding and digests.
//
// Threading: a PduParser is a plain value owned by one thread (the connection's); nothing here
// locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "target/pdu.h"

namespace scoria::target {

// Why the stream can no longer be parsed. After any of these the parser is dead and the caller
// must drop the connection (at ERL 0 there is no recovery from a framing or header digest
// error, RFC 7143 §7.8).
enum class ParseError {
  kNone = 0,
  kHeaderDigest,        // header digest mismatch
  kDataSegmentTooLong,  // DataSegmentLength > our MaxRecvDataSegmentLength
  kBadAhs,              // AHS entries do not tile TotalAHSLength
};
const char* ParseErrorName(ParseError e);

struct ParserOptions {
  // Our MaxRecvDataSegmentLength: 8192 during login (RFC 7143 §13.12 default), then the
  // declared value.
  uint32_t max_data_segment_length = 8192;
  DigestConfig digests;
};

// One PDU out of the stream. When data_digest_error is set the header is intact but the data
// digest did not match: the data has been dropped and the caller answers with Reject
// kRejectDataDigest quoting pdu.bhs() (and, at ERL 0, fails the task); the stream stays usable.
struct ReceivedPdu {
  Pdu pdu;
  bool data_digest_error = false;
};

// Incremental parser: feed it whatever recv() returned, in any chunking; it emits each
// complete PDU once. Digests and the segment limit may change between PDUs (they apply from
// the next PDU boundary): to switch exactly after a given PDU (login completion), call Feed
// with max_pdus = 1 during login and re-feed the unconsumed rest after switching.
class PduParser {
 public:
  explicit PduParser(ParserOptions options = {}) : options_(options) {}

  void set_digests(DigestConfig d) { options_.digests = d; }
  void set_max_data_segment_length(uint32_t n) { options_.max_data_segment_length = n; }

  // Zero-copy receive (optional): called once per PDU with a data segment, after the header
  // and its digest have been checked, with the BHS and the data length. Return a writable span
  // of exactly `length` bytes (e.g. the task's buffer at BufferOffset for a Data-Out) and the
  // parser writes the data there; the emitted Pdu then borrows it (data() points into it).
  // Return an empty span to let the parser allocate. On a data digest error the span holds
  // garbage. Must not call back into the parser.
  using DataSink = std::function<std::span<uint8_t>(const Bhs& bhs, uint32_t length)>;
  void set_data_sink(DataSink sink) { sink_ = std::move(sink); }
  const ParserOptions& options() const { return options_; }

  // Consumes bytes from `in`, appending complete PDUs to *out (at most max_pdus of them).
  // Returns the number of bytes consumed: all of `in` unless max_pdus PDUs were completed
  // first. On a stream error returns InvalidArgument; error() then says which, the parser
  // stays failed, and the PDUs already appended to *out are valid.
  Result<size_t> Feed(std::span<const uint8_t> in, std::vector<ReceivedPdu>* out,
                      size_t max_pdus = SIZE_MAX);

  ParseError error() const { return error_; }
  // True between PDUs (nothing buffered): a clean place to close the connection.
  bool idle() const { return state_ == State::kBhs && have_ == 0; }

 private:
  enum class State { kBhs, kAhs, kHeaderDigest, kData, kPad, kDataDigest };
  Status Fail(ParseError e, std::string msg);
  void Emit(std::vector<ReceivedPdu>* out, bool digest_error);

  ParserOptions options_;
  DigestConfig pdu_digests_;  // digests in force for the PDU being parsed
  State state_ = State::kBhs;
  ParseError error_ = ParseError::kNone;
  Bhs bhs_{};
  std::vector<uint8_t> ahs_;
  std::vector<uint8_t> data_;     // data when no sink took it
  uint8_t* sink_data_ = nullptr;  // data destination given by sink_ for the current PDU
  DataSink sink_;
  uint8_t pad_[3] = {};
  uint8_t digest_[4] = {};
  size_t have_ = 0;  // bytes of the current part received
  size_t want_ = 0;  // bytes of the current part expected
  uint32_t data_length_ = 0;
};

}  // namespace scoria::target
