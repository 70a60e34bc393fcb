// CDB decoding helpers: big-endian loads/stores and the opcodes the logical unit knows.
//
// Every multi-byte field in a CDB or in SCSI parameter/data buffers is big-endian (SPC-4 3.5).
// These are plain byte loads the compiler folds into one load + bswap; they are the only way
// the SCSI code reads or writes such fields.
#pragma once

#include <cstddef>
#include <cstdint>

namespace scoria::target::scsi {

inline uint16_t Load16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t Load24(const uint8_t* p) { return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]; }
inline uint32_t Load32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline uint64_t Load64(const uint8_t* p) { return uint64_t(Load32(p)) << 32 | Load32(p + 4); }

inline void Store16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
inline void Store32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}
inline void Store64(uint8_t* p, uint64_t v) {
  Store32(p, uint32_t(v >> 32));
  Store32(p + 4, uint32_t(v));
}

// Operation codes (SPC-4 / SBC-3).
namespace op {
inline constexpr uint8_t kTestUnitReady = 0x00;
inline constexpr uint8_t kRequestSense = 0x03;
inline constexpr uint8_t kRead6 = 0x08;
inline constexpr uint8_t kWrite6 = 0x0a;
inline constexpr uint8_t kInquiry = 0x12;
inline constexpr uint8_t kModeSelect6 = 0x15;
inline constexpr uint8_t kReserve6 = 0x16;
inline constexpr uint8_t kRelease6 = 0x17;
inline constexpr uint8_t kModeSense6 = 0x1a;
inline constexpr uint8_t kStartStopUnit = 0x1b;
inline constexpr uint8_t kPreventAllow = 0x1e;
inline constexpr uint8_t kReadCapacity10 = 0x25;
inline constexpr uint8_t kRead10 = 0x28;
inline constexpr uint8_t kWrite10 = 0x2a;
inline constexpr uint8_t kWriteVerify10 = 0x2e;
inline constexpr uint8_t kVerify10 = 0x2f;
inline constexpr uint8_t kPrefetch10 = 0x34;
inline constexpr uint8_t kSyncCache10 = 0x35;
inline constexpr uint8_t kWriteSame10 = 0x41;
inline constexpr uint8_t kUnmap = 0x42;
inline constexpr uint8_t kModeSelect10 = 0x55;
inline constexpr uint8_t kModeSense10 = 0x5a;
inline constexpr uint8_t kPersistentReserveIn = 0x5e;
inline constexpr uint8_t kPersistentReserveOut = 0x5f;
inline constexpr uint8_t kRead16 = 0x88;
inline constexpr uint8_t kCompareAndWrite = 0x89;
inline constexpr uint8_t kWrite16 = 0x8a;
inline constexpr uint8_t kWriteVerify16 = 0x8e;
inline constexpr uint8_t kVerify16 = 0x8f;
inline constexpr uint8_t kPrefetch16 = 0x90;
inline constexpr uint8_t kSyncCache16 = 0x91;
inline constexpr uint8_t kWriteSame16 = 0x93;
inline constexpr uint8_t kServiceActionIn16 = 0x9e;  // SA 0x10 READ CAPACITY(16), 0x12 GET LBA STATUS
inline constexpr uint8_t kReportLuns = 0xa0;
inline constexpr uint8_t kMaintenanceIn = 0xa3;      // SA 0x0c REPORT SUPPORTED OPERATION CODES
inline constexpr uint8_t kRead12 = 0xa8;
inline constexpr uint8_t kWrite12 = 0xaa;
inline constexpr uint8_t kWriteVerify12 = 0xae;
inline constexpr uint8_t kVerify12 = 0xaf;

inline constexpr uint8_t kSaReadCapacity16 = 0x10;
inline constexpr uint8_t kSaGetLbaStatus = 0x12;
inline constexpr uint8_t kSaReportSupportedOpcodes = 0x0c;
}  // namespace op

// The CDB length implied by the group code in the opcode's top three bits (SPC-4 4.2.5.1);
// 0 for the vendor-specific / reserved groups.
inline size_t CdbLengthForOpcode(uint8_t opcode) {
  switch (opcode >> 5) {
    case 0: return 6;
    case 1:
    case 2: return 10;
    case 4: return 16;
    case 5: return 12;
    default: return 0;
  }
}

}  // namespace scoria::target::scsi
