// CapabilitiesFilter (§4.4): the pool's reported capabilities must satisfy every extra spec of
// the volume type that is unscoped or scoped "capabilities:".
//
// Keys scoped with anything else (provisioning:, RESKEY:, qos:, vendor prefixes) are ignored.
// "capabilities:a:b" walks nested dicts caps["a"]["b"]; a missing key fails. A list capability
// passes when any element matches. storage_protocol is widened to every spelling of its protocol
// (iSCSI/iscsi, FC/fibre_channel/fc, NFS/nfs, NVMe-oF/NVMeOF/nvmeof) before matching. An extend
// of an attached volume fails on a pool with online_extend_support false. Requirement strings
// follow extra_specs_ops.h.
#pragma once

#include <string>
#include <vector>

#include "scheduler/extra_specs_ops.h"
#include "scheduler/filters/filter.h"

namespace scoria::scheduler {

class CapabilitiesFilter : public PoolFilter {
 public:
  explicit CapabilitiesFilter(const RequestSpec& request);
  std::string_view name() const override { return "CapabilitiesFilter"; }
  bool Passes(const PoolState& pool) override;

 private:
  struct Spec {
    std::vector<std::string> path;  // capability path after stripping "capabilities:"
    bool is_storage_protocol = false;
    ExtraSpecRequirement requirement;
  };
  bool online_extend_required_;
  std::vector<Spec> specs_;
};

// The spellings Cinder treats as the same protocol as `protocol` (including itself), or nullptr
// when it has no known variants. Points into static storage.
const std::vector<std::string>* StorageProtocolVariants(const std::string& protocol);

}  // namespace scoria::scheduler
