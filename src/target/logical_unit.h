// LogicalUnit: the SCSI side of an exported volume (SPC-4 / SBC-3 emulation over a
// volume::BlockDevice). The iSCSI layer hands it complete commands (all Data-Out already
// gathered) and gets back status, sense and Data-In; it knows nothing about iSCSI.
//
// Model: Execute() is asynchronous: `done` is called exactly once, possibly on a BlockDevice
// completion thread (the caller posts it back to its connection thread). Commands that need no
// I/O (INQUIRY, READ CAPACITY, MODE SENSE...) may complete inline before Execute returns.
// Unit attentions and reservations are tracked per I_T nexus (Nexus::id).
//
// Threading: Execute and the other methods may be called from several connection threads at
// once (several sessions per target); the LogicalUnit protects its own state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "target/data_buffer.h"
#include "volume/block_device.h"

namespace scoria::target {

// SCSI status codes (SAM-5).
inline constexpr uint8_t kStatusGood = 0x00;
inline constexpr uint8_t kStatusCheckCondition = 0x02;
inline constexpr uint8_t kStatusConditionMet = 0x04;
inline constexpr uint8_t kStatusBusy = 0x08;
inline constexpr uint8_t kStatusReservationConflict = 0x18;
inline constexpr uint8_t kStatusTaskSetFull = 0x28;
inline constexpr uint8_t kStatusTaskAborted = 0x40;

// The I_T nexus a command arrived on: initiator port (InitiatorName + ",i,0x" + ISID) and the
// target port. Units keep unit attentions and reservations per nexus.
struct Nexus {
  std::string id;              // unique per I_T nexus
  std::string initiator_name;  // iqn of the initiator
};

// Data-Out length (iSCSI EDTL versus the CDB): `data_out` may differ from what the CDB
// implies when the initiator's EDTL does (RFC 7143 11.4.5.2 residuals; iscsi-test-cu
// iSCSIResiduals). Writes (WRITE, WRITE AND VERIFY) use the first CDB-implied bytes and
// ignore any excess; when fewer arrived they write only the whole blocks that did and
// return GOOD (FCP-4 9.4.2 option a: "data beyond FCP_DL is not transferred"), which is what
// libiscsi 1.19 checks. Commands whose parameter data must be complete (COMPARE AND WRITE,
// WRITE SAME, UNMAP, MODE SELECT, PERSISTENT RESERVE OUT, VERIFY with BYTCHK) fail with
// ILLEGAL REQUEST when it is not. Reads always return exactly the CDB-implied bytes; the iSCSI
// layer trims to EDTL and reports the residual.
struct ScsiCommand {
  uint8_t cdb[16] = {};
  size_t cdb_length = 0;
  uint32_t expected_length = 0;  // iSCSI Expected Data Transfer Length
  bool read = false;             // R bit
  bool write = false;            // W bit
  std::vector<std::byte> data_out;  // every byte the initiator sent (<= expected_length)
};

struct ScsiResult {
  uint8_t status = kStatusGood;
  std::vector<uint8_t> sense;       // fixed-format sense data when CHECK CONDITION
  DataBuffer data_in;               // what the command returns (the CDB's allocation length
                                    // bounds it; the iSCSI layer trims to expected_length and
                                    // reports residuals); uninitialised when allocated
};

using ScsiCallback = std::function<void(ScsiResult)>;

struct UnitConfig {
  std::string volume_id;    // uuid: serial number (VPD 0x80) and NAA/T10 ids (VPD 0x83)
  std::string vendor = "SCORIA";
  std::string product = "VOLUME";
  std::string revision = "0001";
  bool read_only = false;   // every write fails with DATA PROTECT / WRITE PROTECTED
  // Largest READ/WRITE/VERIFY transfer accepted (VPD 0xB0 MAXIMUM TRANSFER LENGTH, in blocks
  // of the device's size); longer ones fail with INVALID FIELD IN CDB. QEMU and Linux split
  // their requests at this size. Trade-off: a data buffer of this size per command in flight.
  uint32_t max_transfer_bytes = 8u << 20;
  // Initial caching mode page WCE (changeable by MODE SELECT). true: writes may be acknowledged
  // before they are durable, so initiators must send SYNCHRONIZE CACHE / FUA (what every
  // BlockDevice's Write contract says). false: every write is sent with fua.
  bool write_cache_enabled = true;
  // READ CAPACITY(16) LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT: 3 for 512-byte blocks on a
  // 4 KiB-sector backend, so initiators align I/O. 0 = physical == logical.
  uint8_t physical_block_exponent = 0;
  // IEEE company id (OUI) in the NAA 6 designator of VPD 0x83; the other 100 bits come from
  // volume_id. Default: the OpenFabrics OUI that LIO also uses.
  uint32_t ieee_company_id = 0x001405;
};

class LogicalUnit {
 public:
  virtual ~LogicalUnit() = default;
  virtual void Execute(const Nexus& nexus, ScsiCommand cmd, ScsiCallback done) = 0;
  // After an online extend: re-reads the device size and queues UNIT ATTENTION 2Ah/09h
  // (capacity data has changed) for every nexus.
  virtual void CapacityChanged() = 0;
  // LOGICAL UNIT RESET / TARGET WARM RESET from `nexus`: clears reservations as SPC says and
  // queues UNIT ATTENTION 29h/03h for the other nexuses.
  virtual void Reset(const Nexus& nexus) = 0;
  // The nexus is gone (session closed): forget its unit attentions (keeps PR registrations).
  virtual void NexusLost(const Nexus& nexus) = 0;
  virtual uint64_t BlockCount() const = 0;
  virtual uint32_t BlockSize() const = 0;
  // UnitConfig::max_transfer_bytes: the most data one READ/WRITE may carry.
  virtual uint32_t MaxTransferBytes() const = 0;
};

std::unique_ptr<LogicalUnit> NewLogicalUnit(std::shared_ptr<volume::BlockDevice> device,
                                            UnitConfig config);

}  // namespace scoria::target
