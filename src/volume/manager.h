// VolumeManager: one per enabled backend (`host@backend`). It serves that backend's tasks
// (create_volume, delete_volume, extend_volume) by calling the driver and then finishing the
// task in the transaction that writes the volume's final state, and it reports the backend's
// stats and heartbeat into the services table every report_interval.
//
//   create_volume:  creating --driver ok--> available
//                            --driver failed, attempts left--> (re)schedule task, host cleared
//                            --driver failed, none left--> error + user message
//   delete_volume:  deleting --driver ok--> row removed
//                            --driver failed for good--> error_deleting + user message
//   extend_volume:  extending --driver ok--> previous status, size = new size (an exported
//                             volume's initiators are told: Exporter::CapacityChanged)
//                             --driver failed for good--> error_extending + user message
//
// Attach and detach (the api enqueues these with resource_id = the volume id, so they run in
// order with the volume's other tasks; args {"attachment_id": ...}):
//
//   export_attachment:   attaching/attached row --driver Open (device cached per volume),
//                        Exporter::Export, Exporter::Allow(row's initiator, CHAP, mode)-->
//                        row.connection_info written, row.exported = 1
//                        --failed for good--> row error_attaching, volume status recomputed
//                        row gone or in another state --> nothing
//   unexport_attachment: Exporter::Revoke(row); no other exported row of the volume ->
//                        Exporter::Unexport + device dropped; then, in one transaction,
//                        args.delete_row (default true): row removed and the volume's status
//                        recomputed from the remaining rows (db::RecomputeVolumeStatus);
//                        else row kept with exported = 0 (legacy os-terminate_connection)
//
// Snapshots (snapshot_tasks.cc; the api enqueues them with resource_id = the VOLUME's id, so
// they run in order with that volume's attach, extend and delete tasks, and a cascade delete's
// snapshot deletions run before the volume's; args {"snapshot_id": ...}):
//
//   create_snapshot:    snapshot creating --(exported volume: gate Quiesce) driver
//                       CreateSnapshot (Release)--> available, progress 100%
//                       --failed for good--> driver DeleteSnapshot, error + user message
//                       row gone or not creating --> nothing
//   delete_snapshot:    deleting --driver DeleteSnapshot--> row removed
//                       --failed for good--> error_deleting + user message
//   revert_to_snapshot: volume reverting, snapshot restoring --driver RevertToSnapshot-->
//                       volume available, snapshot available
//                       --failed for good--> volume error, snapshot available + user message
//   create_volume of a volume with snapshot_id / source_volid: as create_volume, but the
//                       driver copies the source (CreateVolumeFromSnapshot / CloneVolume, the
//                       source volume gated if exported); a failure is never rescheduled (the
//                       scheduler placed it on the source's backend): error + user message.
//
// Exported volumes are served through a GatedBlockDevice (gated_block_device.h), which is what
// lets a snapshot or clone of an in-use volume hold every acknowledged write.
//
// Start() re-publishes every exported row of this backend (Export + Allow), so exports
// outlive a restart.
//
// Transient driver errors (Unavailable) are retried by the task worker with backoff.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "db/database.h"
#include "db/attachments_repo.h"
#include "tasks/protocol.h"
#include "tasks/worker.h"
#include "volume/driver.h"
#include "volume/exporter.h"
#include "volume/gated_block_device.h"

namespace scoria::volume {

class VolumeManager {
 public:
  // exporter: where attachments are published (not owned; must outlive the manager). nullptr:
  // this manager cannot attach (export tasks end in error_attaching).
  VolumeManager(db::Database& db, const Config& config, const BackendConfig& backend,
                std::unique_ptr<VolumeDriver> driver, Exporter* exporter = nullptr);

  // "host@backend": the task target and the service host.
  const std::string& backend_host() const { return backend_host_; }
  // "host@backend#pool": the single pool of this backend.
  const std::string& pool_host() const { return pool_host_; }

  // Driver set-up plus a consistency check between the backend and the database (files
  // without rows are logged, never deleted: a wrong database must not wipe a backend).
  Status Start();
  void RegisterHandlers(tasks::TaskWorker& worker);
  // Heartbeat + capabilities; called every report_interval. When the driver cannot say how
  // full its backend is (a Ceph monitor or every NFS share unreachable) the service is still
  // alive: the heartbeat goes on with the last pool it reported, marked backend_state "down"
  // (none before the first good report), and the driver's error is returned for the log.
  Status ReportStats();

 private:
  Status HandleCreate(tasks::TaskContext& ctx, const tasks::CreateVolume& args);
  Status HandleDelete(tasks::TaskContext& ctx);
  Status HandleExtend(tasks::TaskContext& ctx, const tasks::ExtendVolume& args);
  // The extend's final state in `tx`: the new size, or error_extending with a user message.
  Status FinishExtend(db::Transaction& tx, const std::string& id, int64_t new_size,
                      const Status& st);
  // A failed create: reschedule elsewhere while attempts remain, else error.
  Status FailCreate(tasks::TaskContext& ctx, const tasks::CreateVolume& args, const Status& why);
  // A create that ends here for good: error with a user message (in `tx`).
  Status FinishFailedCreate(db::Transaction& tx, const std::string& id, const Status& why);
  Status HandleExportAttachment(tasks::TaskContext& ctx, const tasks::ExportAttachment& args);
  Status HandleUnexportAttachment(tasks::TaskContext& ctx, const tasks::UnexportAttachment& args);
  Status FailExport(tasks::TaskContext& ctx, const std::string& attachment_id, const Status& why);
  // Export + Allow of one row (opens and caches the device if needed).
  Status Publish(const db::AttachmentRecord& a);
  // Re-publishes the exported rows of this backend (Start). Failures are logged.
  void RestoreExports();
  // Snapshot tasks (snapshot_tasks.cc).
  Status HandleCreateSnapshot(tasks::TaskContext& ctx, const tasks::CreateSnapshot& args);
  Status HandleDeleteSnapshot(tasks::TaskContext& ctx, const tasks::DeleteSnapshot& args);
  Status HandleRevertToSnapshot(tasks::TaskContext& ctx, const tasks::RevertToSnapshot& args);
  // The driver step of a create_volume whose row names a source (snapshot or volume).
  Status CreateFromSource(const db::VolumeRecord& vol);
  // Runs `copy` with the volume's export quiesced when it is exported (else directly).
  Status WithQuiescedVolume(const std::string& volume_id, const std::function<Status()>& copy);
  // Logs snapshot files that no row of this backend owns (Start).
  void CheckSnapshotFiles();

  Result<std::shared_ptr<BlockDevice>> Device(const std::string& volume_id);
  // The gate of an exported volume's device; nullptr when it is not exported.
  std::shared_ptr<GatedBlockDevice> Gate(const std::string& volume_id);
  void DropDevice(const std::string& volume_id);
  bool HasDevice(const std::string& volume_id);

  db::Database& db_;
  const Config& config_;
  const BackendConfig backend_;
  std::unique_ptr<VolumeDriver> driver_;
  Exporter* const exporter_;
  std::mutex devices_mu_;
  // Open devices of exported volumes. GUARDED_BY(devices_mu_)
  std::map<std::string, std::shared_ptr<GatedBlockDevice>> devices_;
  std::string backend_host_;
  std::string pool_host_;
  // The capabilities of the last good report (ReportStats runs on one thread at a time).
  std::optional<nlohmann::json> last_caps_;
};

// The connection_info Cinder returns for an iSCSI attachment (cinder-api.md §3.6), from the
// exporter's target name and portal and the row's CHAP credentials and mode.
nlohmann::json IscsiConnectionInfo(const Exporter& exporter, const db::AttachmentRecord& a);

// Whether an attachment's host wants to open the volume itself (Cinder's non-iSCSI
// connection_info, e.g. rbd): its connector (a Scoria extension, docs/backends.md) names a
// driver_volume_type other than iscsi. Drivers that cannot (NotImplemented) export over iSCSI.
bool AsksNativeConnection(const db::AttachmentRecord& a);
// Whether an exported attachment's connection_info is native (nothing exported by the target).
bool IsNativeConnection(const db::AttachmentRecord& a);
// The connection_info of a native attachment: the driver's type and data, the row's mode.
nlohmann::json NativeConnectionInfo(const VolumeDriver::NativeConnection& native,
                                    const db::AttachmentRecord& a);

// Transient errors are worth a retry of the same step; the rest are final for that step.
bool IsTransient(const Status& st);
inline constexpr int kMaxStepAttempts = 5;

}  // namespace scoria::volume
