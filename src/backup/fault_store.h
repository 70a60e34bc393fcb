// FaultInjectingStore: a BackupStore wrapper that fails or corrupts chosen operations, for
// tests of every failing edge of the jobs and the repository (STYLE.md points 5 and 12).
//
// Model: every call on the wrapper gets a sequence number (1, 2, ...) counted over all
// operations, or over one kind of operation. Rules are checked in the order they were added;
// the first matching rule applies. A rule matches an operation kind, optionally a name prefix,
// and either "the Nth matching op" or "every matching op from now on".
// Effects: fail with a given Status (the inner store is not called), or, for Get only,
// return the inner object with one byte flipped (silent corruption), or truncated.
//
// Threading: thread-safe; counters are atomic under one mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backup/store.h"

namespace scoria::backup {

enum class StoreOp { kAny, kPut, kGet, kStat, kList, kDelete, kSync };

enum class FaultEffect {
  kFail,      // return the rule's status; the inner store is not called
  kCorrupt,   // Get: flip one byte in the middle of the object
  kTruncate,  // Get: drop the second half of the object
};

struct FaultRule {
  StoreOp op = StoreOp::kAny;
  std::string name_prefix;  // "" matches every name (List matches on its prefix argument)
  // 0: every matching op; n > 0: only the nth matching op counted from when the rule was added.
  uint64_t nth = 0;
  FaultEffect effect = FaultEffect::kFail;
  Status status = Unavailable("injected fault");
};

class FaultInjectingStore final : public BackupStore {
 public:
  explicit FaultInjectingStore(std::shared_ptr<BackupStore> inner);

  void AddRule(FaultRule rule);
  void ClearRules();
  // How many ops of that kind went through the wrapper (faulted ones included).
  uint64_t OpCount(StoreOp op) const;
  // How many faults were injected so far.
  uint64_t Injected() const;
  BackupStore& inner() { return *inner_; }

  Status Put(std::string_view name, std::span<const std::byte> data) override;
  Result<std::vector<std::byte>> Get(std::string_view name) override;
  Result<ObjectInfo> Stat(std::string_view name) override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view name) override;
  Status Sync() override;

 private:
  struct Armed {
    FaultRule rule;
    uint64_t seen = 0;
  };
  // The rule that applies to this op, if any. Counts the op.
  std::optional<FaultRule> Match(StoreOp op, std::string_view name);

  std::shared_ptr<BackupStore> inner_;
  mutable std::mutex mu_;
  std::vector<Armed> rules_;  // guarded by mu_
  uint64_t counts_[7] = {};   // guarded by mu_, indexed by StoreOp
  uint64_t injected_ = 0;     // guarded by mu_
};

}  // namespace scoria::backup
