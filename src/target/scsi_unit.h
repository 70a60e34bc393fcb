// ScsiUnit: the LogicalUnit implementation (internal to target/; callers use NewLogicalUnit).
//
// Model: Execute() looks the opcode (and service action) up in a static command table
// (scsi_commands.cc), checks the CDB's reserved bits against the table's CDB usage mask (the
// same mask REPORT SUPPORTED OPERATION CODES returns), then under `mu_` once: delivers a
// pending UNIT ATTENTION, applies RESERVE(6) / persistent reservation conflicts, and for
// writers takes the compare-and-write gate. It then runs the handler outside the lock. Handlers
// that do I/O take a pooled IoContext (no heap allocation on the READ/WRITE path beyond the
// data buffer) and complete from the BlockDevice's completion thread.
//
// The implementation is split by concept: logical_unit.cc (dispatch, UA, TUR, REQUEST SENSE,
// REPORT LUNS, READ CAPACITY, START STOP, PREVENT ALLOW), scsi_commands.cc (command table,
// REPORT SUPPORTED OPERATION CODES), scsi_inquiry.cc, scsi_mode.cc, scsi_rw.cc (media access),
// scsi_pr.cc (RESERVE/RELEASE(6), PERSISTENT RESERVE IN/OUT).
//
// Threading: mu_ guards everything marked GUARDED; it is never held across device I/O or
// while calling a completion callback.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "target/logical_unit.h"
#include "target/scsi_sense.h"

namespace scoria::target::scsi {

class ScsiUnit;
struct IoContext;

// How a command relates to reservations (SPC-4 5.9.1 table 53, simplified to three classes).
enum class Access : uint8_t {
  kAlways,  // INQUIRY, REPORT LUNS, REQUEST SENSE, TUR, READ CAPACITY, RSOC, PR IN/OUT
  kRead,    // reads medium or LU state: conflicts with exclusive-access types
  kWrite,   // changes medium or LU state: conflicts with every type
};

using Handler = void (ScsiUnit::*)(const Nexus&, ScsiCommand&, ScsiCallback&);

struct CommandInfo {
  uint8_t opcode;
  uint8_t service_action;  // when has_sa
  bool has_sa;
  uint8_t cdb_length;
  uint8_t usage[16];       // CDB usage data: byte 0 = opcode, then the bits we accept
  Access access;
  bool writes_medium;      // refused on read-only / SWP units
  bool no_ua;              // never reports a pending UNIT ATTENTION (SAM-5 5.14)
  Handler handler;
};

// Copies `len` bytes of `data` into result.data_in, truncated to `alloc_len` (allocation
// length truncation is never an error: SPC-4 4.2.5.6).
void SetDataInTruncated(ScsiResult& result, const uint8_t* data, size_t len, size_t alloc_len);

// The table, sorted by (opcode, service action). nullptr when unsupported.
const CommandInfo* FindCommand(uint8_t opcode, uint8_t service_action);
const std::vector<const CommandInfo*>& AllCommands();
bool OpcodeHasServiceActions(uint8_t opcode);

// Persistent reservation types (SPC-4 6.16.3.4).
inline constexpr uint8_t kPrWriteExclusive = 1;
inline constexpr uint8_t kPrExclusiveAccess = 3;
inline constexpr uint8_t kPrWriteExclusiveRegistrantsOnly = 5;
inline constexpr uint8_t kPrExclusiveAccessRegistrantsOnly = 6;
inline constexpr uint8_t kPrWriteExclusiveAllRegistrants = 7;
inline constexpr uint8_t kPrExclusiveAccessAllRegistrants = 8;

class ScsiUnit final : public LogicalUnit {
 public:
  ScsiUnit(std::shared_ptr<volume::BlockDevice> device, UnitConfig config);
  ~ScsiUnit() override;

  void Execute(const Nexus& nexus, ScsiCommand cmd, ScsiCallback done) override;
  void CapacityChanged() override;
  void Reset(const Nexus& nexus) override;
  void NexusLost(const Nexus& nexus) override;
  uint64_t BlockCount() const override { return block_count_.load(std::memory_order_relaxed); }
  uint32_t BlockSize() const override { return block_size_; }
  uint32_t MaxTransferBytes() const override { return max_transfer_blocks_ * block_size_; }

  // Handlers (one per command family; see the table in scsi_commands.cc).
  void TestUnitReady(const Nexus&, ScsiCommand&, ScsiCallback&);
  void RequestSense(const Nexus&, ScsiCommand&, ScsiCallback&);
  void Inquiry(const Nexus&, ScsiCommand&, ScsiCallback&);
  void ReportLuns(const Nexus&, ScsiCommand&, ScsiCallback&);
  void ReadCapacity10(const Nexus&, ScsiCommand&, ScsiCallback&);
  void ReadCapacity16(const Nexus&, ScsiCommand&, ScsiCallback&);
  void ReportSupportedOpcodes(const Nexus&, ScsiCommand&, ScsiCallback&);
  void ModeSense(const Nexus&, ScsiCommand&, ScsiCallback&);
  void ModeSelect(const Nexus&, ScsiCommand&, ScsiCallback&);
  void StartStopUnit(const Nexus&, ScsiCommand&, ScsiCallback&);
  void PreventAllow(const Nexus&, ScsiCommand&, ScsiCallback&);
  void Read(const Nexus&, ScsiCommand&, ScsiCallback&);
  void Write(const Nexus&, ScsiCommand&, ScsiCallback&);
  void Verify(const Nexus&, ScsiCommand&, ScsiCallback&);
  void WriteVerify(const Nexus&, ScsiCommand&, ScsiCallback&);
  void CompareAndWrite(const Nexus&, ScsiCommand&, ScsiCallback&);
  void WriteSame(const Nexus&, ScsiCommand&, ScsiCallback&);
  void Unmap(const Nexus&, ScsiCommand&, ScsiCallback&);
  void GetLbaStatus(const Nexus&, ScsiCommand&, ScsiCallback&);
  void Prefetch(const Nexus&, ScsiCommand&, ScsiCallback&);
  void SynchronizeCache(const Nexus&, ScsiCommand&, ScsiCallback&);
  void Reserve6(const Nexus&, ScsiCommand&, ScsiCallback&);
  void Release6(const Nexus&, ScsiCommand&, ScsiCallback&);
  void PersistentReserveIn(const Nexus&, ScsiCommand&, ScsiCallback&);
  void PersistentReserveOut(const Nexus&, ScsiCommand&, ScsiCallback&);

  // Limits reported in VPD 0xB0 and enforced.
  uint32_t MaxTransferBlocks() const { return max_transfer_blocks_; }
  static constexpr uint32_t kMaxUnmapBlocks = 1u << 20;       // libiscsi: <= 1 Mi
  static constexpr uint32_t kMaxUnmapDescriptors = 256;
  // MAXIMUM WRITE SAME LENGTH, enforced after NUMBER OF LOGICAL BLOCKS 0 is expanded to "to the
  // last LBA" (as LIO does, and as libiscsi's WriteSame*.0Blocks expect). 0xFFFF, LIO's value
  // (WRITE SAME(10)'s 16-bit count), and below 65536 on purpose: when it is 0 or >= 65536,
  // libiscsi's WriteSame16.Unmap sends a single WRITE(16) of 65536 blocks, past any MAXIMUM
  // TRANSFER LENGTH we would want to buffer (32 MiB of 512-byte blocks).
  static constexpr uint32_t kMaxWriteSameBlocks = 0xffff;
  static constexpr uint8_t kMaxCompareAndWriteBlocks = 255;

 private:
  struct NexusState {
    std::string initiator_name;
    std::deque<SenseCode> unit_attentions;
  };
  struct Registration {
    std::string nexus_id;
    std::string initiator_name;
    uint64_t key = 0;
  };

  // --- dispatch helpers (logical_unit.cc) ---
  // Under mu_: UA delivery, reservation conflicts, write gate. Returns a result to send instead
  // of running the command, or nullopt to run it.
  std::optional<ScsiResult> AdmitLocked(const Nexus& nexus, const CommandInfo& info,
                                        const ScsiCommand& cmd);
  NexusState& NexusLocked(const Nexus& nexus);
  void QueueUaLocked(const std::string& except_nexus, SenseCode code);
  void QueueUaForLocked(const std::string& nexus_id, SenseCode code);
  bool ReservationConflictLocked(const std::string& nexus_id, const CommandInfo& info) const;
  const Registration* FindRegistrationLocked(const std::string& nexus_id) const;
  bool IsPrHolderLocked(const std::string& nexus_id) const;

  // --- media helpers (scsi_rw.cc) ---
  // The write gate: plain writers share it, COMPARE AND WRITE holds it exclusively, so a CAW
  // is atomic against every other write to the LU. TryEnterGate returns false when the caller
  // must queue `run` (which then runs, gate held, once the gate frees up; it is moved from).
  bool EnterGateOrQueue(bool exclusive, std::function<void()>& run);
  void LeaveGate(bool exclusive);
  // Validates LBA + count against capacity; fills `out` with the error result when invalid.
  bool CheckRange(uint64_t lba, uint64_t count, ScsiResult* out) const;
  void FinishIo(IoContext* ctx, const Status& st);
  void VerifyRead(IoContext* ctx, const Status& st);
  void CompareAndWriteRead(IoContext* ctx, const Status& st);
  IoContext* AcquireContext();
  static void DeleteContext(IoContext* ctx);
  void StartWrite(IoContext* ctx);
  bool WriteCacheEnabled() const { return wce_.load(std::memory_order_relaxed); }
  bool WriteProtected() const {
    return config_.read_only || swp_.load(std::memory_order_relaxed);
  }
  ScsiResult WriteProtectResult() const {
    return CheckCondition(config_.read_only ? kWriteProtected : kSoftwareWriteProtected);
  }

  std::shared_ptr<volume::BlockDevice> device_;
  UnitConfig config_;
  uint32_t block_size_;
  uint32_t max_transfer_blocks_;
  std::atomic<uint64_t> block_count_;
  std::atomic<bool> wce_{true};   // caching page WCE (changeable)
  std::atomic<bool> swp_{false};  // control page SWP (changeable)

  std::mutex mu_;
  std::unordered_map<std::string, NexusState> nexuses_;           // GUARDED_BY(mu_)
  std::optional<std::string> reserve6_holder_;                   // GUARDED_BY(mu_)
  std::vector<Registration> registrations_;                      // GUARDED_BY(mu_)
  uint32_t pr_generation_ = 0;                                   // GUARDED_BY(mu_)
  bool pr_reserved_ = false;                                     // GUARDED_BY(mu_)
  uint8_t pr_type_ = 0;                                          // GUARDED_BY(mu_)
  std::string pr_holder_;     // nexus id; unused for all-registrants types  GUARDED_BY(mu_)
  uint32_t writes_in_flight_ = 0;                                // GUARDED_BY(mu_)
  bool caw_active_ = false;                                      // GUARDED_BY(mu_)
  struct GateWaiter {
    bool exclusive;
    std::function<void()> run;
  };
  std::deque<GateWaiter> gate_waiters_;                          // GUARDED_BY(mu_)
  std::vector<IoContext*> free_contexts_;                 // GUARDED_BY(mu_)
};

}  // namespace scoria::target::scsi
