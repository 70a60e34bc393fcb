// iSCSI PDUs (RFC 7143 §11): the in-memory form, typed field accessors and the encoder for the
// send path. The incremental parser of the receive stream is in pdu_parser.h; the builders of
// every PDU the target sends are in pdu_build.h.
//
// Model: a Pdu is a 48-byte Basic Header Segment (BHS) kept verbatim in wire order, an
// optional Additional Header Segment (AHS, whole 4-byte words) and a data segment. Accessors
// read and write the BHS in place (all multi-byte fields big-endian), so a received PDU can be
// re-sent or quoted (Reject) byte for byte. Field offsets depend on the opcode; each accessor
// says which PDUs it applies to. The data segment is either owned by the Pdu (a vector) or
// borrowed (a span set with set_data_view, for zero-copy Data-In: the caller keeps the bytes
// alive until the PDU has been written to the socket). Padding and digests exist only on the
// wire: the encoder adds them, the parser checks and strips them.
//
// BHS layout (bytes):
//   0      .I|opcode(6)            I = immediate (initiator PDUs)
//   1      F + opcode-specific flags
//   2..3   opcode-specific (login versions, response/status, reject reason...)
//   4      TotalAHSLength (4-byte words)
//   5..7   DataSegmentLength (bytes, excluding padding)
//   8..15  LUN, or ISID(6) + TSIH(2) for login
//   16..19 Initiator Task Tag
//   20..47 opcode-specific: TTT/EDTL/CID at 20, CmdSN or StatSN at 24, ExpStatSN or ExpCmdSN
//          at 28, MaxCmdSN (target) or CDB (SCSI Command, 32..47) at 32, then
//          DataSN/R2TSN/status class+detail at 36, BufferOffset at 40, residual/desired
//          length at 44.
//
// Threading: a Pdu and an EncodedPdu are plain values owned by one thread (the
// connection's); nothing here locks.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "target/digest.h"

namespace scoria::target {

inline constexpr size_t kBhsLength = 48;
inline constexpr uint32_t kReservedTag = 0xffffffffu;        // "no task" ITT/TTT
inline constexpr uint32_t kMaxDataSegmentLength = 0xffffff;  // 24-bit field
inline constexpr uint32_t kMaxAhsLength = 255 * 4;           // TotalAHSLength is one byte

using Bhs = std::array<uint8_t, kBhsLength>;
static_assert(sizeof(Bhs) == kBhsLength, "the BHS is exactly 48 bytes on the wire");

using Isid = std::array<uint8_t, 6>;
static_assert(sizeof(Isid) == 6);

enum class Opcode : uint8_t {
  // Initiator -> target.
  kNopOut = 0x00,
  kScsiCommand = 0x01,
  kTaskMgmtRequest = 0x02,
  kLoginRequest = 0x03,
  kTextRequest = 0x04,
  kDataOut = 0x05,
  kLogoutRequest = 0x06,
  kSnack = 0x10,
  // Target -> initiator.
  kNopIn = 0x20,
  kScsiResponse = 0x21,
  kTaskMgmtResponse = 0x22,
  kLoginResponse = 0x23,
  kTextResponse = 0x24,
  kDataIn = 0x25,
  kLogoutResponse = 0x26,
  kR2t = 0x31,
  kAsyncMessage = 0x32,
  kReject = 0x3f,
};
const char* OpcodeName(uint8_t raw_opcode);  // "SCSI Command", or "Unknown"

// Byte 0.
inline constexpr uint8_t kImmediateBit = 0x40;
inline constexpr uint8_t kOpcodeMask = 0x3f;
// Byte 1, common.
inline constexpr uint8_t kFinalBit = 0x80;
// Byte 1, SCSI Command.
inline constexpr uint8_t kCmdReadBit = 0x40;
inline constexpr uint8_t kCmdWriteBit = 0x20;
inline constexpr uint8_t kCmdAttrMask = 0x07;  // task attribute: 0 untagged, 1 simple...
// Byte 1, Login / Text.
inline constexpr uint8_t kTransitBit = 0x80;   // Login: T
inline constexpr uint8_t kContinueBit = 0x40;  // Login and Text: C
// Byte 1, Data-In / SCSI Response.
inline constexpr uint8_t kAckBit = 0x40;            // Data-In A (ERL > 0 only)
inline constexpr uint8_t kBidiOverflowBit = 0x10;   // SCSI Response o
inline constexpr uint8_t kBidiUnderflowBit = 0x08;  // SCSI Response u
inline constexpr uint8_t kOverflowBit = 0x04;       // O
inline constexpr uint8_t kUnderflowBit = 0x02;      // U
inline constexpr uint8_t kStatusBit = 0x01;         // Data-In S (status phase collapse)

// Login stages (CSG/NSG, RFC 7143 §11.12.3).
inline constexpr uint8_t kStageSecurity = 0;
inline constexpr uint8_t kStageOperational = 1;
inline constexpr uint8_t kStageFullFeature = 3;

// Reject reasons (RFC 7143 §11.17.1).
inline constexpr uint8_t kRejectDataDigest = 0x02;
inline constexpr uint8_t kRejectSnack = 0x03;
inline constexpr uint8_t kRejectProtocolError = 0x04;
inline constexpr uint8_t kRejectNotSupported = 0x05;
inline constexpr uint8_t kRejectImmediateCmd = 0x06;
inline constexpr uint8_t kRejectTaskInProgress = 0x07;
inline constexpr uint8_t kRejectInvalidDataAck = 0x08;
inline constexpr uint8_t kRejectInvalidField = 0x09;
inline constexpr uint8_t kRejectLongOp = 0x0a;
inline constexpr uint8_t kRejectWaitingForLogout = 0x0c;

// TMF functions (byte 1 & 0x7f of the request) and responses (byte 2 of the response).
inline constexpr uint8_t kTmfAbortTask = 1;
inline constexpr uint8_t kTmfAbortTaskSet = 2;
inline constexpr uint8_t kTmfClearAca = 3;
inline constexpr uint8_t kTmfClearTaskSet = 4;
inline constexpr uint8_t kTmfLogicalUnitReset = 5;
inline constexpr uint8_t kTmfTargetWarmReset = 6;
inline constexpr uint8_t kTmfTargetColdReset = 7;
inline constexpr uint8_t kTmfTaskReassign = 8;
inline constexpr uint8_t kTmfRespComplete = 0;
inline constexpr uint8_t kTmfRespNoTask = 1;
inline constexpr uint8_t kTmfRespNoLun = 2;
inline constexpr uint8_t kTmfRespReassignUnsupported = 4;
inline constexpr uint8_t kTmfRespNotSupported = 5;
inline constexpr uint8_t kTmfRespAuthFailed = 6;
inline constexpr uint8_t kTmfRespRejected = 255;

// SCSI Response byte 2.
inline constexpr uint8_t kScsiRespCompleted = 0x00;
inline constexpr uint8_t kScsiRespTargetFailure = 0x01;

// Logout reasons (request byte 1 & 0x7f) and responses (response byte 2).
inline constexpr uint8_t kLogoutCloseSession = 0;
inline constexpr uint8_t kLogoutCloseConnection = 1;
inline constexpr uint8_t kLogoutRemoveForRecovery = 2;
inline constexpr uint8_t kLogoutRespSuccess = 0;
inline constexpr uint8_t kLogoutRespCidNotFound = 1;
inline constexpr uint8_t kLogoutRespRecoveryUnsupported = 2;
inline constexpr uint8_t kLogoutRespCleanupFailed = 3;

// Async events (byte 36).
inline constexpr uint8_t kAsyncScsiEvent = 0;
inline constexpr uint8_t kAsyncRequestLogout = 1;
inline constexpr uint8_t kAsyncDropConnection = 2;
inline constexpr uint8_t kAsyncDropAllConnections = 3;
inline constexpr uint8_t kAsyncRenegotiate = 4;

// AHS types (RFC 7143 §11.2.2.2).
inline constexpr uint8_t kAhsExtendedCdb = 1;
inline constexpr uint8_t kAhsBidiReadLength = 2;

// SAM LUN <-> the 8-byte LUN field: single-level peripheral (< 256) or flat (< 16384)
// addressing, which is what Linux, libiscsi and QEMU send.
uint64_t EncodeLun(uint16_t lun);
uint16_t DecodeLun(uint64_t field);

// Whether the AHS entries (RFC 7143 §11.2.2: length, type, specific part, padded to 4 bytes)
// tile `ahs` exactly.
bool AhsWellFormed(std::span<const uint8_t> ahs);

class Pdu {
 public:
  Pdu() { bhs_.fill(0); }
  explicit Pdu(Opcode op) : Pdu() { set_opcode(op); }
  explicit Pdu(const Bhs& bhs) : bhs_(bhs) {}

  const Bhs& bhs() const { return bhs_; }
  Bhs& mutable_bhs() { return bhs_; }

  // --- Byte 0..7: every PDU ---
  uint8_t raw_opcode() const { return bhs_[0] & kOpcodeMask; }
  Opcode opcode() const { return static_cast<Opcode>(raw_opcode()); }
  void set_opcode(Opcode op) { bhs_[0] = (bhs_[0] & kImmediateBit) | static_cast<uint8_t>(op); }
  bool immediate() const { return (bhs_[0] & kImmediateBit) != 0; }
  void set_immediate(bool v) { SetBit(0, kImmediateBit, v); }
  uint8_t flags() const { return bhs_[1]; }
  void set_flags(uint8_t f) { bhs_[1] = f; }
  bool final_bit() const { return (bhs_[1] & kFinalBit) != 0; }
  void set_final_bit(bool v) { SetBit(1, kFinalBit, v); }
  // Header fields as received / last set; Encode() rewrites both from the real sizes.
  uint32_t total_ahs_length() const { return bhs_[4] * 4u; }
  uint32_t data_segment_length() const { return Get24(5); }

  // --- Bytes 8..23 ---
  uint64_t lun() const { return Get64(8); }  // raw 8-byte field; see DecodeLun
  void set_lun(uint64_t v) { Set64(8, v); }
  uint32_t itt() const { return Get32(16); }
  void set_itt(uint32_t v) { Set32(16, v); }
  // NOP-Out/In, Data-Out/In, R2T, Text, SNACK.
  uint32_t ttt() const { return Get32(20); }
  void set_ttt(uint32_t v) { Set32(20, v); }
  // SCSI Command: Expected Data Transfer Length.
  uint32_t edtl() const { return Get32(20); }
  void set_edtl(uint32_t v) { Set32(20, v); }
  // TMF Request: Referenced Task Tag.
  uint32_t referenced_task_tag() const { return Get32(20); }
  void set_referenced_task_tag(uint32_t v) { Set32(20, v); }

  // --- Bytes 24..35: sequence numbers ---
  uint32_t cmd_sn() const { return Get32(24); }  // initiator PDUs
  void set_cmd_sn(uint32_t v) { Set32(24, v); }
  uint32_t exp_stat_sn() const { return Get32(28); }  // initiator PDUs
  void set_exp_stat_sn(uint32_t v) { Set32(28, v); }
  uint32_t stat_sn() const { return Get32(24); }  // target PDUs
  void set_stat_sn(uint32_t v) { Set32(24, v); }
  uint32_t exp_cmd_sn() const { return Get32(28); }  // target PDUs
  void set_exp_cmd_sn(uint32_t v) { Set32(28, v); }
  uint32_t max_cmd_sn() const { return Get32(32); }  // target PDUs
  void set_max_cmd_sn(uint32_t v) { Set32(32, v); }
  uint32_t ref_cmd_sn() const { return Get32(32); }  // TMF Request
  void set_ref_cmd_sn(uint32_t v) { Set32(32, v); }

  // --- Bytes 36..47 ---
  uint32_t data_sn() const { return Get32(36); }  // Data-In/Out, Reject
  void set_data_sn(uint32_t v) { Set32(36, v); }
  uint32_t r2t_sn() const { return Get32(36); }  // R2T
  void set_r2t_sn(uint32_t v) { Set32(36, v); }
  uint32_t exp_data_sn() const { return Get32(36); }  // SCSI Response, TMF Request
  void set_exp_data_sn(uint32_t v) { Set32(36, v); }
  uint32_t buffer_offset() const { return Get32(40); }  // Data-In/Out, R2T
  void set_buffer_offset(uint32_t v) { Set32(40, v); }
  uint32_t bidi_residual_count() const { return Get32(40); }  // SCSI Response
  void set_bidi_residual_count(uint32_t v) { Set32(40, v); }
  uint32_t residual_count() const { return Get32(44); }  // SCSI Response, Data-In
  void set_residual_count(uint32_t v) { Set32(44, v); }
  uint32_t desired_length() const { return Get32(44); }  // R2T
  void set_desired_length(uint32_t v) { Set32(44, v); }

  // --- SCSI Command ---
  bool read_bit() const { return (bhs_[1] & kCmdReadBit) != 0; }
  bool write_bit() const { return (bhs_[1] & kCmdWriteBit) != 0; }
  uint8_t task_attribute() const { return bhs_[1] & kCmdAttrMask; }
  std::span<const uint8_t, 16> cdb() const { return std::span<const uint8_t, 16>(&bhs_[32], 16); }
  std::span<uint8_t, 16> mutable_cdb() { return std::span<uint8_t, 16>(&bhs_[32], 16); }
  // The whole CDB: bytes 32..47 followed by an Extended CDB AHS if present (RFC 7143
  // §11.2.2.3). InvalidArgument if the AHS is malformed.
  Result<std::vector<uint8_t>> FullCdb() const;

  // --- SCSI Response / Data-In ---
  uint8_t response() const { return bhs_[2]; }  // SCSI Response, TMF Response, Logout Response
  void set_response(uint8_t v) { bhs_[2] = v; }
  uint8_t scsi_status() const { return bhs_[3]; }  // SCSI Response, Data-In with S
  void set_scsi_status(uint8_t v) { bhs_[3] = v; }
  bool status_bit() const { return (bhs_[1] & kStatusBit) != 0; }

  // --- Login Request / Response ---
  bool transit() const { return (bhs_[1] & kTransitBit) != 0; }
  bool continue_bit() const { return (bhs_[1] & kContinueBit) != 0; }  // also Text
  uint8_t csg() const { return (bhs_[1] >> 2) & 3; }
  uint8_t nsg() const { return bhs_[1] & 3; }
  // Sets T, C, CSG and NSG (the whole flags byte).
  void set_login_flags(bool transit, bool cont, uint8_t csg, uint8_t nsg) {
    bhs_[1] = static_cast<uint8_t>((transit ? kTransitBit : 0) | (cont ? kContinueBit : 0) |
                                   ((csg & 3) << 2) | (nsg & 3));
  }
  uint8_t version_max() const { return bhs_[2]; }  // request; response: Version-max
  uint8_t version_min() const { return bhs_[3]; }  // request; response: Version-active
  void set_versions(uint8_t max, uint8_t min_or_active) {
    bhs_[2] = max;
    bhs_[3] = min_or_active;
  }
  Isid isid() const;
  void set_isid(const Isid& v);
  uint16_t tsih() const { return Get16(14); }
  void set_tsih(uint16_t v) { Set16(14, v); }
  uint16_t cid() const { return Get16(20); }  // Login Request, Logout Request
  void set_cid(uint16_t v) { Set16(20, v); }
  uint8_t status_class() const { return bhs_[36]; }  // Login Response
  uint8_t status_detail() const { return bhs_[37]; }
  void set_login_status(uint8_t cls, uint8_t detail) {
    bhs_[36] = cls;
    bhs_[37] = detail;
  }

  // --- TMF Request ---
  uint8_t tmf_function() const { return bhs_[1] & 0x7f; }

  // --- Logout ---
  uint8_t logout_reason() const { return bhs_[1] & 0x7f; }  // request
  uint16_t time2wait() const { return Get16(40); }          // response
  uint16_t time2retain() const { return Get16(42); }
  void set_time2wait(uint16_t v) { Set16(40, v); }
  void set_time2retain(uint16_t v) { Set16(42, v); }

  // --- Reject ---
  uint8_t reject_reason() const { return bhs_[2]; }

  // --- Async Message ---
  uint8_t async_event() const { return bhs_[36]; }
  uint8_t async_vcode() const { return bhs_[37]; }
  uint16_t async_parameter(int i) const { return Get16(38 + 2 * i); }  // i = 0, 1, 2

  // --- AHS (whole words; at most kMaxAhsLength bytes) ---
  const std::vector<uint8_t>& ahs() const { return ahs_; }
  // Precondition: ahs.size() % 4 == 0 and <= kMaxAhsLength. Updates TotalAHSLength.
  void set_ahs(std::vector<uint8_t> ahs);

  // --- Data segment ---
  std::span<const uint8_t> data() const { return view_ ? *view_ : std::span<const uint8_t>(data_); }
  // Owned data; updates DataSegmentLength. Precondition: size <= kMaxDataSegmentLength.
  void set_data(std::vector<uint8_t> data);
  // Borrowed data (zero-copy): `data` must stay valid and unchanged until the PDU has been
  // encoded and sent. Updates DataSegmentLength.
  void set_data_view(std::span<const uint8_t> data);
  // Moves owned data out (empty if the data was borrowed).
  std::vector<uint8_t> TakeData();

  // Multi-byte big-endian field access for anything without a named accessor.
  uint16_t Get16(size_t off) const { return static_cast<uint16_t>(bhs_[off] << 8 | bhs_[off + 1]); }
  uint32_t Get24(size_t off) const {
    return static_cast<uint32_t>(bhs_[off]) << 16 | bhs_[off + 1] << 8 | bhs_[off + 2];
  }
  uint32_t Get32(size_t off) const {
    return static_cast<uint32_t>(bhs_[off]) << 24 | static_cast<uint32_t>(bhs_[off + 1]) << 16 |
           static_cast<uint32_t>(bhs_[off + 2]) << 8 | bhs_[off + 3];
  }
  uint64_t Get64(size_t off) const {
    return static_cast<uint64_t>(Get32(off)) << 32 | Get32(off + 4);
  }
  void Set16(size_t off, uint16_t v) {
    bhs_[off] = static_cast<uint8_t>(v >> 8);
    bhs_[off + 1] = static_cast<uint8_t>(v);
  }
  void Set24(size_t off, uint32_t v) {
    bhs_[off] = static_cast<uint8_t>(v >> 16);
    bhs_[off + 1] = static_cast<uint8_t>(v >> 8);
    bhs_[off + 2] = static_cast<uint8_t>(v);
  }
  void Set32(size_t off, uint32_t v) {
    Set16(off, static_cast<uint16_t>(v >> 16));
    Set16(off + 2, static_cast<uint16_t>(v));
  }
  void Set64(size_t off, uint64_t v) {
    Set32(off, static_cast<uint32_t>(v >> 32));
    Set32(off + 4, static_cast<uint32_t>(v));
  }

 private:
  void SetBit(size_t byte, uint8_t bit, bool v) {
    bhs_[byte] = v ? (bhs_[byte] | bit) : (bhs_[byte] & ~bit);
  }

  Bhs bhs_;
  std::vector<uint8_t> ahs_;
  std::vector<uint8_t> data_;
  std::optional<std::span<const uint8_t>> view_;
};

// ---------------------------------------------------------------------------------------------
// Encoding (send path).

struct DigestConfig {
  bool header = false;  // CRC32C over BHS + AHS after the header
  bool data = false;    // CRC32C over data + padding after the padded data (if any data)
};

inline uint32_t PaddedLength(uint32_t n) { return (n + 3u) & ~3u; }

// Bytes `pdu` occupies on the wire.
size_t EncodedSize(const Pdu& pdu, DigestConfig digests);

// Appends the wire form of `pdu` (header fields TotalAHSLength/DataSegmentLength set from the
// real sizes, padding, digests) to *out.
void EncodeTo(const Pdu& pdu, DigestConfig digests, std::vector<uint8_t>* out);

// The wire form as up to three iovecs (header, data, trailer) without copying the data. Holds
// pointers into `pdu`'s data: the Pdu (and a borrowed data view) must outlive this object and
// the write. Movable; the header/trailer bytes live inside this object, so iovecs taken before
// a move point into the old object: call AppendIovecs once it is in its final place.
class EncodedPdu {
 public:
  EncodedPdu(const Pdu& pdu, DigestConfig digests);
  size_t size() const { return head_len_ + data_.size() + tail_len_; }
  // Appends 1 to 3 iovecs pointing into this object and the Pdu's data.
  void AppendIovecs(std::vector<iovec>* out) const;
  // The same iovecs into out[0..2], without allocating; returns how many (1 to 3). The data
  // segment's iovec, if any, is the one whose base is data().data().
  size_t Iovecs(iovec (&out)[3]) const;
  std::span<const uint8_t> data() const { return data_; }
  // Contiguous copy (tests, small PDUs).
  std::vector<uint8_t> Flatten() const;

 private:
  // BHS + header digest inline (no allocation on the hot path: target PDUs carry no AHS);
  // big_head_ only when there is an AHS. Never store a pointer to inline_head_ (movable).
  uint8_t* head() { return big_head_.empty() ? inline_head_.data() : big_head_.data(); }
  const uint8_t* head() const { return big_head_.empty() ? inline_head_.data() : big_head_.data(); }
  std::array<uint8_t, kBhsLength + kDigestLength> inline_head_;
  std::vector<uint8_t> big_head_;
  size_t head_len_ = 0;
  std::span<const uint8_t> data_;
  std::array<uint8_t, 3 + kDigestLength> tail_{};  // padding + data digest
  size_t tail_len_ = 0;
};

}  // namespace scoria::target
