// LogicalUnit factory and the ScsiUnit core: dispatch, unit attentions, reservation
// admission, and the small commands without a concept file of their own.
#include "target/logical_unit.h"

#include <algorithm>
#include <cstring>

#include "target/scsi_cdb.h"
#include "target/scsi_sense.h"
#include "target/scsi_unit.h"

namespace scoria::target {

std::unique_ptr<LogicalUnit> NewLogicalUnit(std::shared_ptr<volume::BlockDevice> device,
                                            UnitConfig config) {
  return std::make_unique<scsi::ScsiUnit>(std::move(device), std::move(config));
}

namespace scsi {
namespace {

int HighestBit(uint8_t v) {
  for (int b = 7; b >= 0; --b)
    if (v & (1u << b)) return b;
  return -1;
}

// Copies `data` into `result.data_in`, truncated to the allocation length (never an error:
// SPC-4 4.2.5.6).
void SetDataIn(ScsiResult& result, const uint8_t* data, size_t len, size_t alloc_len) {
  len = std::min(len, alloc_len);
  result.data_in.Assign(data, len);
}

}  // namespace

ScsiUnit::ScsiUnit(std::shared_ptr<volume::BlockDevice> device, UnitConfig config)
    : device_(std::move(device)),
      config_(std::move(config)),
      block_size_(device_->BlockSize()),
      max_transfer_blocks_(std::max<uint32_t>(1, config_.max_transfer_bytes / block_size_)),
      block_count_(device_->Size() / block_size_) {
  wce_.store(config_.write_cache_enabled, std::memory_order_relaxed);
}

ScsiUnit::~ScsiUnit() {
  for (IoContext* ctx : free_contexts_) DeleteContext(ctx);
}

void ScsiUnit::Execute(const Nexus& nexus, ScsiCommand cmd, ScsiCallback done) {
  const uint8_t opcode = cmd.cdb[0];
  const CommandInfo* info = FindCommand(opcode, cmd.cdb[1] & 0x1f);

  // Reserved bits: everything outside the command's CDB usage mask (SPC-4 4.2.5).
  int bad_byte = -1;
  uint8_t bad_bits = 0;
  if (info) {
    for (int i = 1; i < info->cdb_length; ++i) {
      const uint8_t bad = cmd.cdb[i] & uint8_t(~info->usage[i]);
      if (bad) {
        bad_byte = i;
        bad_bits = bad;
        break;
      }
    }
  }

  std::optional<ScsiResult> early;
  {
    std::lock_guard lock(mu_);
    NexusState& ns = NexusLocked(nexus);
    // SAM-5 5.14: INQUIRY, REPORT LUNS and REQUEST SENSE never report a unit attention; every
    // other command (even an unknown one) reports the oldest pending one and is not run.
    if (!ns.unit_attentions.empty() && !(info && info->no_ua)) {
      early = CheckCondition(ns.unit_attentions.front());
      ns.unit_attentions.pop_front();
    } else if (info && ReservationConflictLocked(nexus.id, *info)) {
      early = ReservationConflict();
    }
  }
  if (!early) {
    if (!info) {
      if (OpcodeHasServiceActions(opcode)) {
        early = InvalidFieldInCdb(1, 4);
      } else {
        early = CheckCondition(kInvalidOpcode);
      }
    } else if (bad_byte >= 0) {
      early = InvalidFieldInCdb(uint16_t(bad_byte), HighestBit(bad_bits));
    } else if (info->writes_medium && WriteProtected()) {
      early = WriteProtectResult();
    }
  }
  if (early) {
    done(std::move(*early));
    return;
  }
  (this->*(info->handler))(nexus, cmd, done);
}

ScsiUnit::NexusState& ScsiUnit::NexusLocked(const Nexus& nexus) {
  auto it = nexuses_.find(nexus.id);
  if (it != nexuses_.end()) return it->second;
  // A nexus we have not seen (new login, or one forgotten by NexusLost) starts with POWER ON,
  // RESET, OR BUS DEVICE RESET OCCURRED, as LIO does; libiscsi clears it with its TEST UNIT
  // READY loop after login.
  NexusState& ns = nexuses_[nexus.id];
  ns.initiator_name = nexus.initiator_name;
  ns.unit_attentions.push_back(kPowerOnReset);
  return ns;
}

void ScsiUnit::QueueUaForLocked(const std::string& nexus_id, SenseCode code) {
  auto it = nexuses_.find(nexus_id);
  if (it == nexuses_.end()) return;  // it will get POWER ON when it shows up
  auto& q = it->second.unit_attentions;
  if (std::find(q.begin(), q.end(), code) != q.end()) return;
  if (q.size() >= 8) q.pop_front();  // SAM-5: the device may drop the oldest ones
  q.push_back(code);
}

void ScsiUnit::QueueUaLocked(const std::string& except_nexus, SenseCode code) {
  for (auto& [id, ns] : nexuses_) {
    if (id != except_nexus) QueueUaForLocked(id, code);
  }
}

void ScsiUnit::CapacityChanged() {
  Status st = device_->Refresh();
  (void)st;  // a failed refresh keeps the old size; the UA still makes initiators re-read
  block_count_.store(device_->Size() / block_size_, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  QueueUaLocked("", kCapacityDataChanged);
}

void ScsiUnit::Reset(const Nexus& nexus) {
  std::lock_guard lock(mu_);
  // SPC-4 5.9.1 / SPC-2 7.21: a logical unit reset releases RESERVE(6) reservations;
  // persistent reservations survive it.
  reserve6_holder_.reset();
  QueueUaLocked(nexus.id, kBusDeviceReset);
}

void ScsiUnit::NexusLost(const Nexus& nexus) {
  std::lock_guard lock(mu_);
  nexuses_.erase(nexus.id);
  // SPC-2: an I_T nexus loss releases the RESERVE(6) reservation it held.
  if (reserve6_holder_ && *reserve6_holder_ == nexus.id) reserve6_holder_.reset();
}

// ---- small commands ----

void ScsiUnit::TestUnitReady(const Nexus&, ScsiCommand&, ScsiCallback& done) {
  done(ScsiResult{});
}

void ScsiUnit::RequestSense(const Nexus& nexus, ScsiCommand& cmd, ScsiCallback& done) {
  std::vector<uint8_t> sense;
  {
    std::lock_guard lock(mu_);
    NexusState& ns = NexusLocked(nexus);
    if (!ns.unit_attentions.empty()) {
      sense = FixedSense(ns.unit_attentions.front());
      ns.unit_attentions.pop_front();
    }
  }
  if (sense.empty()) sense = FixedSense(SenseCode{kKeyNoSense, 0, 0});
  ScsiResult r;
  SetDataIn(r, sense.data(), sense.size(), cmd.cdb[4]);
  done(std::move(r));
}

void ScsiUnit::ReportLuns(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const uint8_t select = cmd.cdb[2];
  const uint32_t alloc = Load32(&cmd.cdb[6]);
  if (select != 0x00 && select != 0x01 && select != 0x02) {
    done(InvalidFieldInCdb(2));
    return;
  }
  if (alloc < 16) {  // SPC-4 6.33
    done(InvalidFieldInCdb(6));
    return;
  }
  uint8_t buf[16] = {};
  const bool list_lun0 = select != 0x01;  // 0x01: well-known LUNs only (we have none)
  Store32(buf, list_lun0 ? 8 : 0);
  ScsiResult r;
  SetDataIn(r, buf, list_lun0 ? 16 : 8, alloc);
  done(std::move(r));
}

void ScsiUnit::ReadCapacity10(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const uint64_t last = BlockCount() ? BlockCount() - 1 : 0;
  uint8_t buf[8];
  // SBC-3 5.15.2: 0xFFFFFFFF tells the initiator to use READ CAPACITY(16).
  Store32(buf, last > 0xfffffffeULL ? 0xffffffffu : uint32_t(last));
  Store32(buf + 4, block_size_);
  ScsiResult r;
  SetDataIn(r, buf, sizeof buf, sizeof buf);
  done(std::move(r));
}

void ScsiUnit::ReadCapacity16(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const uint32_t alloc = Load32(&cmd.cdb[10]);
  uint8_t buf[32] = {};
  Store64(buf, BlockCount() ? BlockCount() - 1 : 0);
  Store32(buf + 8, block_size_);
  buf[13] = config_.physical_block_exponent & 0x0f;
  buf[14] = 0x80 | 0x40;  // LBPME: thin provisioned; LBPRZ: unmapped blocks read as zeroes
  ScsiResult r;
  SetDataIn(r, buf, sizeof buf, alloc);
  done(std::move(r));
}

void ScsiUnit::StartStopUnit(const Nexus&, ScsiCommand&, ScsiCallback& done) {
  // A virtual disk has no spindle and no medium to eject (RMB=0): accepted as a no-op. The
  // libiscsi StartStopUnit/PreventAllow tests that need removable media skip when RMB=0.
  done(ScsiResult{});
}

void ScsiUnit::PreventAllow(const Nexus&, ScsiCommand&, ScsiCallback& done) {
  // SBC-3 5.13: on a device without removable medium PREVENT is accepted and has no effect.
  done(ScsiResult{});
}

// Shared with other files through scsi_unit.h's friends: allocation-length truncation.
void SetDataInTruncated(ScsiResult& result, const uint8_t* data, size_t len, size_t alloc_len) {
  SetDataIn(result, data, len, alloc_len);
}

}  // namespace scsi
}  // namespace scoria::target
