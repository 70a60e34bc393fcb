#include "db/services_repo.h"

#include <algorithm>
#include <cstdlib>

#include "common/clock.h"

namespace scoria::db {

bool ServiceIsUp(const ServiceRecord& s, int64_t now_us, int down_time_s,
                 int64_t missed_until) {
  const int64_t last = std::max(s.updated_at.value_or(s.created_at), missed_until);
  return std::llabs(now_us - last) <= int64_t{down_time_s} * 1000000;
}

Status Heartbeat(Transaction& tx, const std::string& host, const std::string& binary,
                 const std::string& az, const std::optional<std::string>& capabilities) {
  int64_t now = NowMicros();
  ASSIGN_OR_RETURN(int64_t n,
                   tx.Exec("UPDATE services SET updated_at = ?, report_count = report_count + 1, "
                           "availability_zone = ?, capabilities = COALESCE(?, capabilities) "
                           "WHERE host = ? AND binary_name = ?",
                           {now, az, OptStr(capabilities), host, binary}));
  if (n > 0) return Status::Ok();
  return tx.Exec("INSERT INTO services (host, binary_name, availability_zone, capabilities, "
                 "report_count, created_at, updated_at) VALUES (?,?,?,?,1,?,?)",
                 {host, binary, az, OptStr(capabilities), now, now})
      .status();
}

Result<std::vector<ServiceRecord>> ListServices(Transaction& tx,
                                                const std::optional<std::string>& host,
                                                const std::optional<std::string>& binary) {
  std::string sql =
      "SELECT host, binary_name, availability_zone, disabled, disabled_reason, capabilities, "
      "report_count, created_at, updated_at, frozen FROM services WHERE 1=1";
  std::vector<Value> params;
  if (host) {
    sql += " AND host = ?";
    params.emplace_back(*host);
  }
  if (binary) {
    sql += " AND binary_name = ?";
    params.emplace_back(*binary);
  }
  sql += " ORDER BY binary_name, host";
  ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<ServiceRecord> out;
  for (const Row& r : rows) {
    ServiceRecord s;
    s.host = r.Str(0);
    s.binary = r.Str(1);
    s.availability_zone = r.Str(2);
    s.disabled = r.Int(3) != 0;
    s.disabled_reason = r.OptStr(4);
    s.capabilities = r.OptStr(5);
    s.report_count = r.Int(6);
    s.created_at = r.Int(7);
    s.updated_at = r.OptInt(8);
    s.frozen = r.Int(9) != 0;
    out.push_back(std::move(s));
  }
  return out;
}

Status SetServiceDisabled(Transaction& tx, const std::string& host, const std::string& binary,
                          bool disabled, const std::optional<std::string>& reason) {
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("UPDATE services SET disabled = ?, disabled_reason = ? "
                                      "WHERE host = ? AND binary_name = ?",
                                      {int64_t{disabled}, OptStr(reason), host, binary}));
  if (n == 0) return NotFound("Service " + binary + " on host " + host + " could not be found.");
  return Status::Ok();
}

Status SetServiceFrozen(Transaction& tx, const std::string& host, const std::string& binary,
                        bool frozen, bool disabled, const std::string& reason) {
  ASSIGN_OR_RETURN(int64_t n,
                   tx.Exec("UPDATE services SET frozen = ?, disabled = ?, disabled_reason = ? "
                           "WHERE host = ? AND binary_name = ?",
                           {int64_t{frozen}, int64_t{disabled}, reason, host, binary}));
  if (n == 0) return NotFound("Service " + binary + " on host " + host + " could not be found.");
  return Status::Ok();
}

Result<bool> IsBackendFrozen(Transaction& tx, const std::string& volume_host) {
  ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT frozen FROM services WHERE host = ? AND binary_name = ?",
               {volume_host.substr(0, volume_host.find('#')), std::string(kVolumeBinary)}));
  return !rows.empty() && rows[0].Int(0) != 0;
}

Status DeleteService(Transaction& tx, const std::string& host, const std::string& binary) {
  ASSIGN_OR_RETURN(int64_t n, tx.Exec("DELETE FROM services WHERE host = ? AND binary_name = ?",
                                      {host, binary}));
  if (n == 0) return NotFound("Service " + binary + " on host " + host + " could not be found.");
  return Status::Ok();
}

}  // namespace scoria::db
