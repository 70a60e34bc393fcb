// NullExporter: an Exporter that publishes nothing on the network. It remembers the exports
// and access entries it was given (so tests and the control plane can see them) and logs each
// call; nothing is served. It stands in for the iSCSI target (target::TargetServer) when none
// is wired, and in unit tests. A nullptr device is accepted.
//
// Threading: every method may be called from any thread (one mutex).
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "volume/exporter.h"

namespace scoria::volume {

class NullExporter : public Exporter {
 public:
  // prefix: target IQN prefix ("iqn.2010-10.org.openstack:"); portal: "ip:port".
  NullExporter(std::string prefix, std::string portal)
      : prefix_(std::move(prefix)), portal_(std::move(portal)) {}

  Status Export(const std::string& volume_id, std::shared_ptr<BlockDevice> device) override;
  Status Allow(const std::string& volume_id, const ExportAccess& access) override;
  Status Revoke(const std::string& volume_id, const std::string& attachment_id) override;
  Status Unexport(const std::string& volume_id) override;
  void CapacityChanged(const std::string& volume_id) override;
  std::string TargetName(const std::string& volume_id) const override {
    return prefix_ + "volume-" + volume_id;
  }
  std::string Portal() const override { return portal_; }

  // For tests: whether the volume is exported, and its access entries (attachment -> initiator).
  bool IsExported(const std::string& volume_id) const;
  std::map<std::string, std::string> AccessOf(const std::string& volume_id) const;
  int capacity_changes() const;

 private:
  struct Entry {
    std::shared_ptr<BlockDevice> device;
    std::map<std::string, ExportAccess> access;
  };
  const std::string prefix_;
  const std::string portal_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> exports_;  // GUARDED_BY(mu_)
  int capacity_changes_ = 0;              // GUARDED_BY(mu_)
};

}  // namespace scoria::volume
