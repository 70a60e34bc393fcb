// The command table (what the unit supports, with each CDB's usage mask) and REPORT SUPPORTED
// OPERATION CODES, which is generated from it so the two cannot disagree.
#include <algorithm>
#include <array>
#include <cstring>

#include "target/scsi_cdb.h"
#include "target/scsi_unit.h"

namespace scoria::target::scsi {
namespace {

using U = ScsiUnit;
constexpr Access kA = Access::kAlways;
constexpr Access kR = Access::kRead;
constexpr Access kW = Access::kWrite;

// Usage masks: bit set = the field is used (SPC-4 6.35.3); a set CDB bit outside the mask is
// rejected with INVALID FIELD IN CDB. Byte 1 of READ/WRITE: DPO 0x10, FUA 0x08, FUA_NV 0x02
// (xxPROTECT is refused: no protection information). Group numbers (0x1f) are accepted and
// ignored. The control byte is 0: NACA and LINK are unsupported (SAM-5).
// clang-format off
const CommandInfo kCommands[] = {
  {op::kTestUnitReady, 0, false, 6, {0x00, 0, 0, 0, 0, 0}, kA, false, false, &U::TestUnitReady},
  {op::kRequestSense, 0, false, 6, {0x03, 0, 0, 0, 0xff, 0}, kA, false, true, &U::RequestSense},
  {op::kRead6, 0, false, 6, {0x08, 0x1f, 0xff, 0xff, 0xff, 0}, kR, false, false, &U::Read},
  {op::kWrite6, 0, false, 6, {0x0a, 0x1f, 0xff, 0xff, 0xff, 0}, kW, true, false, &U::Write},
  {op::kInquiry, 0, false, 6, {0x12, 0x01, 0xff, 0xff, 0xff, 0}, kA, false, true, &U::Inquiry},
  {op::kModeSelect6, 0, false, 6, {0x15, 0x11, 0, 0, 0xff, 0}, kW, false, false, &U::ModeSelect},
  {op::kReserve6, 0, false, 6, {0x16, 0, 0, 0, 0, 0}, kA, false, false, &U::Reserve6},
  {op::kRelease6, 0, false, 6, {0x17, 0, 0, 0, 0, 0}, kA, false, false, &U::Release6},
  {op::kModeSense6, 0, false, 6, {0x1a, 0x08, 0xff, 0xff, 0xff, 0}, kR, false, false, &U::ModeSense},
  {op::kStartStopUnit, 0, false, 6, {0x1b, 0x01, 0, 0x0f, 0xf7, 0}, kW, false, false, &U::StartStopUnit},
  {op::kPreventAllow, 0, false, 6, {0x1e, 0, 0, 0, 0x03, 0}, kW, false, false, &U::PreventAllow},
  {op::kReadCapacity10, 0, false, 10, {0x25, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x01, 0}, kA, false, false, &U::ReadCapacity10},
  {op::kRead10, 0, false, 10, {0x28, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0}, kR, false, false, &U::Read},
  {op::kWrite10, 0, false, 10, {0x2a, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0}, kW, true, false, &U::Write},
  {op::kWriteVerify10, 0, false, 10, {0x2e, 0x12, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0}, kW, true, false, &U::WriteVerify},
  {op::kVerify10, 0, false, 10, {0x2f, 0x16, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0}, kR, false, false, &U::Verify},
  {op::kPrefetch10, 0, false, 10, {0x34, 0x02, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0}, kR, false, false, &U::Prefetch},
  {op::kSyncCache10, 0, false, 10, {0x35, 0x06, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0}, kW, false, false, &U::SynchronizeCache},
  {op::kWriteSame10, 0, false, 10, {0x41, 0x08, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0}, kW, true, false, &U::WriteSame},
  {op::kUnmap, 0, false, 10, {0x42, 0, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0}, kW, true, false, &U::Unmap},
  {op::kModeSelect10, 0, false, 10, {0x55, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0}, kW, false, false, &U::ModeSelect},
  {op::kModeSense10, 0, false, 10, {0x5a, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0}, kR, false, false, &U::ModeSense},
  {op::kPersistentReserveIn, 0, true, 10, {0x5e, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0}, kA, false, false, &U::PersistentReserveIn},
  {op::kPersistentReserveIn, 1, true, 10, {0x5e, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0}, kA, false, false, &U::PersistentReserveIn},
  {op::kPersistentReserveIn, 2, true, 10, {0x5e, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0}, kA, false, false, &U::PersistentReserveIn},
  {op::kPersistentReserveIn, 3, true, 10, {0x5e, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, 0}, kA, false, false, &U::PersistentReserveIn},
  {op::kPersistentReserveOut, 0, true, 10, {0x5f, 0x1f, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0}, kA, false, false, &U::PersistentReserveOut},
  {op::kPersistentReserveOut, 1, true, 10, {0x5f, 0x1f, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0}, kA, false, false, &U::PersistentReserveOut},
  {op::kPersistentReserveOut, 2, true, 10, {0x5f, 0x1f, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0}, kA, false, false, &U::PersistentReserveOut},
  {op::kPersistentReserveOut, 3, true, 10, {0x5f, 0x1f, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0}, kA, false, false, &U::PersistentReserveOut},
  {op::kPersistentReserveOut, 4, true, 10, {0x5f, 0x1f, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0}, kA, false, false, &U::PersistentReserveOut},
  {op::kPersistentReserveOut, 5, true, 10, {0x5f, 0x1f, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0}, kA, false, false, &U::PersistentReserveOut},
  {op::kPersistentReserveOut, 6, true, 10, {0x5f, 0x1f, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0}, kA, false, false, &U::PersistentReserveOut},
  {op::kRead16, 0, false, 16, {0x88, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}, kR, false, false, &U::Read},
  {op::kCompareAndWrite, 0, false, 16, {0x89, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0xff, 0x1f, 0}, kW, true, false, &U::CompareAndWrite},
  {op::kWrite16, 0, false, 16, {0x8a, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}, kW, true, false, &U::Write},
  {op::kWriteVerify16, 0, false, 16, {0x8e, 0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}, kW, true, false, &U::WriteVerify},
  {op::kVerify16, 0, false, 16, {0x8f, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}, kR, false, false, &U::Verify},
  {op::kPrefetch16, 0, false, 16, {0x90, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}, kR, false, false, &U::Prefetch},
  {op::kSyncCache16, 0, false, 16, {0x91, 0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}, kW, false, false, &U::SynchronizeCache},
  {op::kWriteSame16, 0, false, 16, {0x93, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}, kW, true, false, &U::WriteSame},
  {op::kServiceActionIn16, op::kSaReadCapacity16, true, 16, {0x9e, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0}, kA, false, false, &U::ReadCapacity16},
  {op::kServiceActionIn16, op::kSaGetLbaStatus, true, 16, {0x9e, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0}, kR, false, false, &U::GetLbaStatus},
  {op::kReportLuns, 0, false, 12, {0xa0, 0, 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0}, kA, false, true, &U::ReportLuns},
  {op::kMaintenanceIn, op::kSaReportSupportedOpcodes, true, 12, {0xa3, 0x1f, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0}, kA, false, false, &U::ReportSupportedOpcodes},
  {op::kRead12, 0, false, 12, {0xa8, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}, kR, false, false, &U::Read},
  {op::kWrite12, 0, false, 12, {0xaa, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}, kW, true, false, &U::Write},
  {op::kWriteVerify12, 0, false, 12, {0xae, 0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}, kW, true, false, &U::WriteVerify},
  {op::kVerify12, 0, false, 12, {0xaf, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0}, kR, false, false, &U::Verify},
};
// clang-format on

struct Index {
  std::array<int16_t, 256> first{};  // index of the opcode's first entry, -1 if none
  std::vector<const CommandInfo*> all;
  Index() {
    first.fill(-1);
    for (size_t i = 0; i < std::size(kCommands); ++i) {
      if (first[kCommands[i].opcode] < 0) first[kCommands[i].opcode] = int16_t(i);
      all.push_back(&kCommands[i]);
    }
  }
};

const Index& TheIndex() {
  static const Index index;
  return index;
}

}  // namespace

const CommandInfo* FindCommand(uint8_t opcode, uint8_t service_action) {
  const int16_t i = TheIndex().first[opcode];
  if (i < 0) return nullptr;
  for (size_t j = size_t(i); j < std::size(kCommands) && kCommands[j].opcode == opcode; ++j) {
    if (!kCommands[j].has_sa || kCommands[j].service_action == service_action)
      return &kCommands[j];
  }
  return nullptr;
}

const std::vector<const CommandInfo*>& AllCommands() { return TheIndex().all; }

bool OpcodeHasServiceActions(uint8_t opcode) {
  const int16_t i = TheIndex().first[opcode];
  return i >= 0 && kCommands[i].has_sa;
}

namespace {

// Command timeouts descriptor (SPC-4 6.35.4): length 0x0a, no vendor-specific field, nominal
// and recommended timeouts in seconds; 0 = not specified.
void AppendTimeouts(std::vector<uint8_t>& out) {
  const uint8_t t[12] = {0x00, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 30};
  out.insert(out.end(), t, t + sizeof t);
}

}  // namespace

void ScsiUnit::ReportSupportedOpcodes(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const bool rctd = cmd.cdb[2] & 0x80;
  const uint8_t options = cmd.cdb[2] & 0x07;
  const uint8_t req_op = cmd.cdb[3];
  const uint16_t req_sa = Load16(&cmd.cdb[4]);
  const uint32_t alloc = Load32(&cmd.cdb[6]);
  std::vector<uint8_t> out;
  if (options == 0) {
    out.resize(4);
    for (const CommandInfo* c : AllCommands()) {
      uint8_t d[8] = {c->opcode, 0, 0, 0, 0, 0, 0, 0};
      if (c->has_sa) Store16(&d[2], c->service_action);
      d[5] = uint8_t((rctd ? 0x02 : 0) | (c->has_sa ? 0x01 : 0));
      Store16(&d[6], c->cdb_length);
      out.insert(out.end(), d, d + 8);
      if (rctd) AppendTimeouts(out);
    }
    Store32(out.data(), uint32_t(out.size() - 4));
  } else if (options <= 3) {
    const bool has_sa = OpcodeHasServiceActions(req_op);
    // 1: opcode without service actions; 2: opcode + service action; 3: either.
    if ((options == 1 && has_sa) || (options == 2 && !has_sa && FindCommand(req_op, 0))) {
      done(InvalidFieldInCdb(2, 0));
      return;
    }
    if (req_sa > 0x1f && has_sa) {
      done(InvalidFieldInCdb(4));
      return;
    }
    const CommandInfo* c = FindCommand(req_op, uint8_t(req_sa));
    if (c && c->has_sa != (options != 1) && options != 3) c = nullptr;
    out.resize(4);
    if (!c) {
      out[1] = 0x01;  // SUPPORT: not supported
    } else {
      out[1] = uint8_t((rctd ? 0x80 : 0) | 0x03);  // CTDP | SUPPORT: supported (standard)
      Store16(&out[2], c->cdb_length);
      out.insert(out.end(), c->usage, c->usage + c->cdb_length);
      if (c->has_sa) out[4 + 1] = (c->usage[1] & 0xe0) | c->service_action;
      if (rctd) AppendTimeouts(out);
    }
  } else {
    done(InvalidFieldInCdb(2, 2));
    return;
  }
  ScsiResult r;
  SetDataInTruncated(r, out.data(), out.size(), alloc);
  done(std::move(r));
}

}  // namespace scoria::target::scsi
