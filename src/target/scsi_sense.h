// Sense data builders: every CHECK CONDITION the logical unit returns is built here, in SPC-4
// fixed format (response code 0x70, 18 bytes). Descriptor format is never used: the control
// mode page reports D_SENSE=0 and does not let it change.
//
// Layout (SPC-4 4.5.3): [0] 0x70 | VALID(0x80) when INFORMATION is set; [2] sense key;
// [3..6] INFORMATION; [7] additional length 10; [12] ASC; [13] ASCQ; [15..17] sense-key
// specific (SKSV 0x80; for ILLEGAL REQUEST: C/D 0x40 = error in the CDB, BPV 0x08 + bit
// pointer, then the 16-bit field pointer to the offending byte).
#pragma once

#include <cstdint>
#include <vector>

#include "target/logical_unit.h"

namespace scoria::target::scsi {

inline constexpr uint8_t kKeyNoSense = 0x0;
inline constexpr uint8_t kKeyNotReady = 0x2;
inline constexpr uint8_t kKeyMediumError = 0x3;
inline constexpr uint8_t kKeyHardwareError = 0x4;
inline constexpr uint8_t kKeyIllegalRequest = 0x5;
inline constexpr uint8_t kKeyUnitAttention = 0x6;
inline constexpr uint8_t kKeyDataProtect = 0x7;
inline constexpr uint8_t kKeyAbortedCommand = 0xb;
inline constexpr uint8_t kKeyMiscompare = 0xe;

// A sense key with its additional sense code and qualifier.
struct SenseCode {
  uint8_t key = 0;
  uint8_t asc = 0;
  uint8_t ascq = 0;
  bool operator==(const SenseCode&) const = default;
};

inline constexpr SenseCode kInvalidOpcode{kKeyIllegalRequest, 0x20, 0x00};
inline constexpr SenseCode kLbaOutOfRange{kKeyIllegalRequest, 0x21, 0x00};
inline constexpr SenseCode kInvalidFieldInCdb{kKeyIllegalRequest, 0x24, 0x00};
inline constexpr SenseCode kInvalidFieldInParamList{kKeyIllegalRequest, 0x26, 0x00};
inline constexpr SenseCode kParamListLengthError{kKeyIllegalRequest, 0x1a, 0x00};
inline constexpr SenseCode kSavingNotSupported{kKeyIllegalRequest, 0x39, 0x00};
inline constexpr SenseCode kInvalidReleaseOfPr{kKeyIllegalRequest, 0x26, 0x04};
inline constexpr SenseCode kWriteProtected{kKeyDataProtect, 0x27, 0x00};
inline constexpr SenseCode kSoftwareWriteProtected{kKeyDataProtect, 0x27, 0x02};
inline constexpr SenseCode kMiscompareDuringVerify{kKeyMiscompare, 0x1d, 0x00};
inline constexpr SenseCode kUnrecoveredReadError{kKeyMediumError, 0x11, 0x00};
inline constexpr SenseCode kWriteError{kKeyMediumError, 0x0c, 0x00};
inline constexpr SenseCode kSpaceAllocationFailed{kKeyDataProtect, 0x27, 0x07};
inline constexpr SenseCode kInternalTargetFailure{kKeyHardwareError, 0x44, 0x00};
inline constexpr SenseCode kPowerOnReset{kKeyUnitAttention, 0x29, 0x00};
inline constexpr SenseCode kBusDeviceReset{kKeyUnitAttention, 0x29, 0x03};
inline constexpr SenseCode kModeParametersChanged{kKeyUnitAttention, 0x2a, 0x01};
inline constexpr SenseCode kReservationsPreempted{kKeyUnitAttention, 0x2a, 0x03};
inline constexpr SenseCode kReservationsReleased{kKeyUnitAttention, 0x2a, 0x04};
inline constexpr SenseCode kRegistrationsPreempted{kKeyUnitAttention, 0x2a, 0x05};
inline constexpr SenseCode kCapacityDataChanged{kKeyUnitAttention, 0x2a, 0x09};

inline constexpr size_t kFixedSenseLength = 18;

// 18 bytes of fixed-format sense for `code`.
std::vector<uint8_t> FixedSense(SenseCode code);
// Sets INFORMATION (bytes 3..6) and the VALID bit.
void SetSenseInformation(std::vector<uint8_t>& sense, uint32_t information);
// Sets the sense-key-specific field pointer: `in_cdb` (C/D), the byte, and the bit when
// `bit` is 0..7 (BPV), for INVALID FIELD IN CDB / PARAMETER LIST.
void SetSenseFieldPointer(std::vector<uint8_t>& sense, bool in_cdb, uint16_t byte, int bit = -1);

// Ready-made results.
ScsiResult CheckCondition(SenseCode code);
// INVALID FIELD IN CDB pointing at CDB byte `byte` (and `bit` if 0..7).
ScsiResult InvalidFieldInCdb(uint16_t byte, int bit = -1);
// INVALID FIELD IN PARAMETER LIST pointing at parameter-data byte `byte`.
ScsiResult InvalidFieldInParameterList(uint16_t byte, int bit = -1);
ScsiResult ReservationConflict();
// The sense a failed BlockDevice operation maps to (the one place Status becomes sense).
SenseCode SenseForIoError(StatusCode code, bool was_write);

}  // namespace scoria::target::scsi
