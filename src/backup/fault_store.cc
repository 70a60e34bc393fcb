// FaultInjectingStore (fault_store.h).
#include "backup/fault_store.h"

namespace scoria::backup {

FaultInjectingStore::FaultInjectingStore(std::shared_ptr<BackupStore> inner)
    : inner_(std::move(inner)) {}

void FaultInjectingStore::AddRule(FaultRule rule) {
  std::lock_guard lock(mu_);
  rules_.push_back({std::move(rule), 0});
}

void FaultInjectingStore::ClearRules() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

uint64_t FaultInjectingStore::OpCount(StoreOp op) const {
  std::lock_guard lock(mu_);
  return counts_[static_cast<int>(op)];
}

uint64_t FaultInjectingStore::Injected() const {
  std::lock_guard lock(mu_);
  return injected_;
}

std::optional<FaultRule> FaultInjectingStore::Match(StoreOp op, std::string_view name) {
  std::lock_guard lock(mu_);
  ++counts_[static_cast<int>(op)];
  ++counts_[static_cast<int>(StoreOp::kAny)];
  // Every rule counts every op it matches, whether or not an earlier rule fires.
  std::optional<FaultRule> fired;
  for (Armed& a : rules_) {
    if (a.rule.op != StoreOp::kAny && a.rule.op != op) continue;
    if (!name.starts_with(a.rule.name_prefix)) continue;
    ++a.seen;
    if (!fired && (a.rule.nth == 0 || a.seen == a.rule.nth)) fired = a.rule;
  }
  if (fired) {
    ++injected_;
    return fired;
  }
  return std::nullopt;
}

Status FaultInjectingStore::Put(std::string_view name, std::span<const std::byte> data) {
  if (auto r = Match(StoreOp::kPut, name); r && r->effect == FaultEffect::kFail) return r->status;
  return inner_->Put(name, data);
}

Result<std::vector<std::byte>> FaultInjectingStore::Get(std::string_view name) {
  std::optional<FaultRule> r = Match(StoreOp::kGet, name);
  if (r && r->effect == FaultEffect::kFail) return r->status;
  ASSIGN_OR_RETURN(std::vector<std::byte> data, inner_->Get(name));
  if (r && r->effect == FaultEffect::kCorrupt && !data.empty()) {
    data[data.size() / 2] ^= std::byte{0x5a};
  } else if (r && r->effect == FaultEffect::kTruncate) {
    data.resize(data.size() / 2);
  }
  return data;
}

Result<ObjectInfo> FaultInjectingStore::Stat(std::string_view name) {
  if (auto r = Match(StoreOp::kStat, name); r && r->effect == FaultEffect::kFail) {
    return r->status;
  }
  return inner_->Stat(name);
}

Result<std::vector<ObjectInfo>> FaultInjectingStore::List(std::string_view prefix) {
  if (auto r = Match(StoreOp::kList, prefix); r && r->effect == FaultEffect::kFail) {
    return r->status;
  }
  return inner_->List(prefix);
}

Status FaultInjectingStore::Delete(std::string_view name) {
  if (auto r = Match(StoreOp::kDelete, name); r && r->effect == FaultEffect::kFail) {
    return r->status;
  }
  return inner_->Delete(name);
}

Status FaultInjectingStore::Sync() {
  if (auto r = Match(StoreOp::kSync, ""); r && r->effect == FaultEffect::kFail) return r->status;
  return inner_->Sync();
}

}  // namespace scoria::backup
