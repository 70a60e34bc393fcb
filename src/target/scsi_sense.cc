#include "target/scsi_sense.h"

#include "target/scsi_cdb.h"

namespace scoria::target::scsi {

std::vector<uint8_t> FixedSense(SenseCode code) {
  std::vector<uint8_t> s(kFixedSenseLength, 0);
  s[0] = 0x70;  // current error, fixed format
  s[2] = code.key & 0x0f;
  s[7] = kFixedSenseLength - 8;
  s[12] = code.asc;
  s[13] = code.ascq;
  return s;
}

void SetSenseInformation(std::vector<uint8_t>& sense, uint32_t information) {
  sense[0] |= 0x80;
  Store32(&sense[3], information);
}

void SetSenseFieldPointer(std::vector<uint8_t>& sense, bool in_cdb, uint16_t byte, int bit) {
  uint8_t b = 0x80;  // SKSV
  if (in_cdb) b |= 0x40;
  if (bit >= 0 && bit <= 7) b |= 0x08 | uint8_t(bit);
  sense[15] = b;
  Store16(&sense[16], byte);
}

ScsiResult CheckCondition(SenseCode code) {
  ScsiResult r;
  r.status = kStatusCheckCondition;
  r.sense = FixedSense(code);
  return r;
}

ScsiResult InvalidFieldInCdb(uint16_t byte, int bit) {
  ScsiResult r = CheckCondition(kInvalidFieldInCdb);
  SetSenseFieldPointer(r.sense, true, byte, bit);
  return r;
}

ScsiResult InvalidFieldInParameterList(uint16_t byte, int bit) {
  ScsiResult r = CheckCondition(kInvalidFieldInParamList);
  SetSenseFieldPointer(r.sense, false, byte, bit);
  return r;
}

ScsiResult ReservationConflict() {
  ScsiResult r;
  r.status = kStatusReservationConflict;
  return r;
}

SenseCode SenseForIoError(StatusCode code, bool was_write) {
  switch (code) {
    case StatusCode::kResourceExhausted:
      // Thin pool full: SBC-3 4.7.3.6 SPACE ALLOCATION FAILED WRITE PROTECT.
      return was_write ? kSpaceAllocationFailed : kUnrecoveredReadError;
    case StatusCode::kInvalidArgument:
    case StatusCode::kInternal:
      // The device refused a request we validated: our bug or a shrunk device.
      return kInternalTargetFailure;
    default:
      return was_write ? kWriteError : kUnrecoveredReadError;
  }
}

}  // namespace scoria::target::scsi
