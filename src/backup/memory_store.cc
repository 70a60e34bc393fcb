// NewMemoryStore: a map of immutable objects under one mutex (store.h). Objects are held as
// shared_ptr so a Get copies outside the lock and a concurrent Put replaces, never mutates.
#include <map>
#include <mutex>

#include "backup/store.h"
#include "common/clock.h"

namespace scoria::backup {
namespace {

class MemoryStore final : public BackupStore {
 public:
  Status Put(std::string_view name, std::span<const std::byte> data) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    auto obj = std::make_shared<Object>();
    obj->data.assign(data.begin(), data.end());
    obj->modified = NowMicros();
    std::lock_guard lock(mu_);
    objects_[std::string(name)] = std::move(obj);
    return Status::Ok();
  }

  Result<std::vector<std::byte>> Get(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    std::shared_ptr<const Object> obj = Find(name);
    if (!obj) return NotFound("object " + std::string(name) + " not found");
    return obj->data;
  }

  Result<ObjectInfo> Stat(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    std::shared_ptr<const Object> obj = Find(name);
    if (!obj) return NotFound("object " + std::string(name) + " not found");
    return ObjectInfo{std::string(name), obj->data.size(), obj->modified};
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::vector<ObjectInfo> out;
    std::lock_guard lock(mu_);
    for (auto it = objects_.lower_bound(std::string(prefix));
         it != objects_.end() && it->first.starts_with(prefix); ++it) {
      out.push_back({it->first, it->second->data.size(), it->second->modified});
    }
    return out;
  }

  Status Delete(std::string_view name) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    std::lock_guard lock(mu_);
    objects_.erase(std::string(name));
    return Status::Ok();
  }

  Status Sync() override { return Status::Ok(); }

 private:
  struct Object {
    std::vector<std::byte> data;
    int64_t modified = 0;
  };

  std::shared_ptr<const Object> Find(std::string_view name) {
    std::lock_guard lock(mu_);
    auto it = objects_.find(std::string(name));
    return it == objects_.end() ? nullptr : it->second;
  }

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Object>, std::less<>> objects_;  // guarded by mu_
};

}  // namespace

std::shared_ptr<BackupStore> NewMemoryStore() { return std::make_shared<MemoryStore>(); }

}  // namespace scoria::backup
