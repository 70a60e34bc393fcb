#include "target/pdu_build.h"

#include <cstring>
#include <utility>

namespace scoria::target {

namespace {

void SetSn(Pdu* p, const TargetSn& sn) {
  p->set_stat_sn(sn.stat_sn);
  p->set_exp_cmd_sn(sn.exp_cmd_sn);
  p->set_max_cmd_sn(sn.max_cmd_sn);
}

}  // namespace

Pdu BuildLoginResponse(const LoginResponseFields& f, std::vector<uint8_t> text) {
  Pdu p(Opcode::kLoginResponse);
  p.set_login_flags(f.transit, f.cont, f.csg, f.nsg);
  p.set_versions(0x00, 0x00);  // RFC 7143 is version 0x00
  p.set_isid(f.isid);
  p.set_tsih(f.tsih);
  p.set_itt(f.itt);
  SetSn(&p, f.sn);
  p.set_login_status(f.status_class, f.status_detail);
  p.set_data(std::move(text));
  return p;
}

Pdu BuildTextResponse(uint32_t itt, uint32_t ttt, bool final, bool cont, uint64_t lun,
                      const TargetSn& sn, std::vector<uint8_t> text) {
  Pdu p(Opcode::kTextResponse);
  p.set_flags(static_cast<uint8_t>((final ? kFinalBit : 0) | (cont ? kContinueBit : 0)));
  p.set_lun(lun);
  p.set_itt(itt);
  p.set_ttt(ttt);
  SetSn(&p, sn);
  p.set_data(std::move(text));
  return p;
}

Pdu BuildScsiResponse(const ScsiResponseFields& f, std::span<const uint8_t> sense) {
  Pdu p(Opcode::kScsiResponse);
  uint8_t flags = kFinalBit;
  if (f.overflow) flags |= kOverflowBit;
  if (f.underflow) flags |= kUnderflowBit;
  if (f.bidi_overflow) flags |= kBidiOverflowBit;
  if (f.bidi_underflow) flags |= kBidiUnderflowBit;
  p.set_flags(flags);
  p.set_response(f.response);
  p.set_scsi_status(f.status);
  p.set_itt(f.itt);
  p.set_ttt(0);  // SNACK Tag, unused at ERL 0
  SetSn(&p, f.sn);
  p.set_exp_data_sn(f.exp_data_sn);
  p.set_bidi_residual_count(f.bidi_residual_count);
  p.set_residual_count(f.overflow || f.underflow ? f.residual_count : 0);
  if (!sense.empty()) {
    size_t n = std::min<size_t>(sense.size(), 0xffff);
    std::vector<uint8_t> data(2 + n);
    data[0] = static_cast<uint8_t>(n >> 8);
    data[1] = static_cast<uint8_t>(n);
    std::memcpy(data.data() + 2, sense.data(), n);
    p.set_data(std::move(data));
  }
  return p;
}

namespace {

Pdu DataInHeader(const DataInFields& f) {
  Pdu p(Opcode::kDataIn);
  uint8_t flags = 0;
  if (f.final || f.status) flags |= kFinalBit;
  if (f.ack) flags |= kAckBit;
  if (f.status) {
    flags |= kStatusBit;
    if (f.overflow) flags |= kOverflowBit;
    if (f.underflow) flags |= kUnderflowBit;
    p.set_scsi_status(*f.status);
    p.set_stat_sn(f.sn.stat_sn);
    p.set_residual_count(f.overflow || f.underflow ? f.residual_count : 0);
  }
  p.set_flags(flags);
  p.set_lun(f.lun);
  p.set_itt(f.itt);
  p.set_ttt(f.ttt);
  p.set_exp_cmd_sn(f.sn.exp_cmd_sn);
  p.set_max_cmd_sn(f.sn.max_cmd_sn);
  p.set_data_sn(f.data_sn);
  p.set_buffer_offset(f.buffer_offset);
  return p;
}

}  // namespace

Pdu BuildDataIn(const DataInFields& f, std::span<const uint8_t> data) {
  Pdu p = DataInHeader(f);
  p.set_data_view(data);
  return p;
}

Pdu BuildDataIn(const DataInFields& f, std::vector<uint8_t> data) {
  Pdu p = DataInHeader(f);
  p.set_data(std::move(data));
  return p;
}

Pdu BuildR2t(const R2tFields& f) {
  Pdu p(Opcode::kR2t);
  p.set_flags(kFinalBit);
  p.set_lun(f.lun);
  p.set_itt(f.itt);
  p.set_ttt(f.ttt);
  SetSn(&p, f.sn);
  p.set_r2t_sn(f.r2t_sn);
  p.set_buffer_offset(f.buffer_offset);
  p.set_desired_length(f.desired_length);
  return p;
}

Pdu BuildNopIn(uint32_t itt, uint32_t ttt, uint64_t lun, const TargetSn& sn,
               std::vector<uint8_t> data) {
  Pdu p(Opcode::kNopIn);
  p.set_flags(kFinalBit);
  p.set_lun(lun);
  p.set_itt(itt);
  p.set_ttt(ttt);
  SetSn(&p, sn);
  p.set_data(std::move(data));
  return p;
}

Pdu BuildLogoutResponse(uint32_t itt, uint8_t response, uint16_t time2wait, uint16_t time2retain,
                        const TargetSn& sn) {
  Pdu p(Opcode::kLogoutResponse);
  p.set_flags(kFinalBit);
  p.set_response(response);
  p.set_itt(itt);
  SetSn(&p, sn);
  p.set_time2wait(time2wait);
  p.set_time2retain(time2retain);
  return p;
}

Pdu BuildReject(uint8_t reason, const Bhs& offending, const TargetSn& sn) {
  Pdu p(Opcode::kReject);
  p.set_flags(kFinalBit);
  p.mutable_bhs()[2] = reason;
  p.set_itt(kReservedTag);
  SetSn(&p, sn);
  p.set_data(std::vector<uint8_t>(offending.begin(), offending.end()));
  return p;
}

Pdu BuildTmfResponse(uint32_t itt, uint8_t response, const TargetSn& sn) {
  Pdu p(Opcode::kTaskMgmtResponse);
  p.set_flags(kFinalBit);
  p.set_response(response);
  p.set_itt(itt);
  SetSn(&p, sn);
  return p;
}

Pdu BuildAsyncMessage(const AsyncMessageFields& f, std::vector<uint8_t> data) {
  Pdu p(Opcode::kAsyncMessage);
  p.set_flags(kFinalBit);
  p.set_lun(f.lun);
  p.set_itt(kReservedTag);
  SetSn(&p, f.sn);
  p.mutable_bhs()[36] = f.event;
  p.mutable_bhs()[37] = f.vcode;
  p.Set16(38, f.parameter1);
  p.Set16(40, f.parameter2);
  p.Set16(42, f.parameter3);
  p.set_data(std::move(data));
  return p;
}

}  // namespace scoria::target
