// Exporter: how the volume service publishes a volume to hosts (the iSCSI target implements
// it: target::TargetServer). The volume manager calls it from its attach/detach tasks and
// restores every export from the database when it starts, so exports outlive a restart.
//
// Model: one export per volume (target `prefix + "volume-" + id`, LUN 0) with an access list;
// one access entry per attachment: the connector's initiator IQN, the attachment's own CHAP
// credentials, and the attach mode. All calls are idempotent (exporting what is exported,
// allowing what is allowed, revoking what is gone: all succeed), so a re-run task converges.
//
// Threading: called from control-plane threads (volume manager tasks); implementations
// synchronise with their data-path threads themselves.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "volume/block_device.h"

namespace scoria::volume {

struct ExportAccess {
  std::string attachment_id;  // the key of this entry
  std::string initiator;      // initiator IQN allowed to log in
  std::string chap_user;
  std::string chap_secret;    // never logged
  // The target's credentials when the initiator asks for mutual CHAP; empty: mutual CHAP is
  // refused.
  std::string target_chap_user;
  std::string target_chap_secret;  // never logged
  bool read_only = false;     // writes fail with DATA PROTECT
};

class Exporter {
 public:
  virtual ~Exporter() = default;
  // Creates the export of `volume_id` backed by `device` if there is none.
  virtual Status Export(const std::string& volume_id, std::shared_ptr<BlockDevice> device) = 0;
  // Adds or replaces the access entry `access.attachment_id` of the volume's export.
  virtual Status Allow(const std::string& volume_id, const ExportAccess& access) = 0;
  // Removes an access entry and ends the sessions of its initiator on this export (unless
  // another entry still allows that initiator).
  virtual Status Revoke(const std::string& volume_id, const std::string& attachment_id) = 0;
  // Removes the export, ending every session on it. NotFound is never returned.
  virtual Status Unexport(const std::string& volume_id) = 0;
  // The volume grew: initiators see a UNIT ATTENTION and the new capacity.
  virtual void CapacityChanged(const std::string& volume_id) = 0;
  // "iqn.2010-10.org.openstack:volume-<id>"
  virtual std::string TargetName(const std::string& volume_id) const = 0;
  // "ip:port" initiators should connect to.
  virtual std::string Portal() const = 0;
};

}  // namespace scoria::volume
