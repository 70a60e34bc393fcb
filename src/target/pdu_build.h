// Builders for every PDU the target sends (RFC 7143 §11): each returns a complete Pdu (flags,
// tags, sequence numbers, data); the caller only encodes it (pdu.h). StatSN handling is the
// caller's: pass the StatSN the PDU must carry and advance it afterwards for status-bearing PDUs
// (RFC 7143 §4.2.2.2).
//
// Threading: plain functions over values; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "target/pdu.h"

namespace scoria::target {

struct TargetSn {
  uint32_t stat_sn = 0;
  uint32_t exp_cmd_sn = 0;
  uint32_t max_cmd_sn = 0;
};

struct LoginResponseFields {
  bool transit = false;
  bool cont = false;
  uint8_t csg = 0;
  uint8_t nsg = 0;
  Isid isid{};
  uint16_t tsih = 0;
  uint32_t itt = 0;
  TargetSn sn;
  uint8_t status_class = 0;
  uint8_t status_detail = 0;
};
Pdu BuildLoginResponse(const LoginResponseFields& f, std::vector<uint8_t> text);

// Text Response: `final` = F; `cont` = C (more text follows; requires !final); ttt is
// kReservedTag when final, else a tag the initiator echoes to get the rest.
Pdu BuildTextResponse(uint32_t itt, uint32_t ttt, bool final, bool cont, uint64_t lun,
                      const TargetSn& sn, std::vector<uint8_t> text);

struct ScsiResponseFields {
  uint32_t itt = 0;
  uint8_t response = kScsiRespCompleted;
  uint8_t status = 0;  // SCSI status (kStatusGood...)
  // Residuals (RFC 7143 §11.4.5): overflow = EDTL smaller than what the command wanted.
  bool overflow = false;
  bool underflow = false;
  uint32_t residual_count = 0;
  bool bidi_overflow = false;
  bool bidi_underflow = false;
  uint32_t bidi_residual_count = 0;
  uint32_t exp_data_sn = 0;  // number of Data-In PDUs sent for this command
  TargetSn sn;
};
// Sense (fixed or descriptor format, may be empty) goes into the data segment as the 2-byte
// SenseLength followed by the sense bytes (RFC 7143 §11.4.7).
Pdu BuildScsiResponse(const ScsiResponseFields& f, std::span<const uint8_t> sense);

struct DataInFields {
  uint32_t itt = 0;
  uint64_t lun = 0;  // only meaningful with A; copied anyway
  uint32_t ttt = kReservedTag;
  uint32_t data_sn = 0;
  uint32_t buffer_offset = 0;
  bool final = false;  // F: last PDU of the sequence
  bool ack = false;    // A (ERL > 0)
  // Status phase collapse: with a value, sets S (and F), the status byte, StatSN and the
  // residual fields. Never use it when sense data must be returned (RFC 7143 §11.7.4).
  std::optional<uint8_t> status;
  bool overflow = false;
  bool underflow = false;
  uint32_t residual_count = 0;
  TargetSn sn;  // stat_sn used only when `status` is set
};
// The data is borrowed (zero-copy): it must outlive the send. Use the vector overload to copy.
Pdu BuildDataIn(const DataInFields& f, std::span<const uint8_t> data);
Pdu BuildDataIn(const DataInFields& f, std::vector<uint8_t> data);

struct R2tFields {
  uint32_t itt = 0;
  uint64_t lun = 0;
  uint32_t ttt = 0;
  uint32_t r2t_sn = 0;
  uint32_t buffer_offset = 0;
  uint32_t desired_length = 0;
  TargetSn sn;  // StatSN = the next StatSN, not advanced by an R2T
};
Pdu BuildR2t(const R2tFields& f);

// NOP-In: answering a ping: itt = the NOP-Out's ITT, ttt = kReservedTag, data = its ping
// data, StatSN advanced afterwards. Target ping: itt = kReservedTag, ttt = ours.
Pdu BuildNopIn(uint32_t itt, uint32_t ttt, uint64_t lun, const TargetSn& sn,
               std::vector<uint8_t> data);

Pdu BuildLogoutResponse(uint32_t itt, uint8_t response, uint16_t time2wait, uint16_t time2retain,
                        const TargetSn& sn);

// Reject: the offending PDU's BHS is the data segment; ITT is reserved (0xffffffff).
Pdu BuildReject(uint8_t reason, const Bhs& offending, const TargetSn& sn);

Pdu BuildTmfResponse(uint32_t itt, uint8_t response, const TargetSn& sn);

struct AsyncMessageFields {
  uint64_t lun = 0;
  uint8_t event = kAsyncRequestLogout;
  uint8_t vcode = 0;
  uint16_t parameter1 = 0;  // request logout: unused; drop connection: CID
  uint16_t parameter2 = 0;  // Time2Wait
  uint16_t parameter3 = 0;  // Time2Retain
  TargetSn sn;
};
Pdu BuildAsyncMessage(const AsyncMessageFields& f, std::vector<uint8_t> data);

}  // namespace scoria::target
