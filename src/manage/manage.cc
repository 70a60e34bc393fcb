#include "manage/manage.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <functional>

#include "common/clock.h"
#include "db/hosts_repo.h"
#include "db/services_repo.h"

namespace scoria::manage {
namespace {

std::string Column(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size() + 1, ' ');
}

Status ServiceList(db::Database& db, const Config& config, int64_t now_us, std::ostream& out) {
  std::vector<db::ServiceRecord> services;
  RETURN_IF_ERROR(db::InReadTransaction(db, [&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(services, db::ListServices(tx, std::nullopt, std::nullopt));
    return Status::Ok();
  }));
  out << Column("Binary", 16) << Column("Host", 36) << Column("Zone", 16) << Column("Status", 10)
      << Column("State", 5) << Column("Frozen", 6) << "Updated At\n";
  for (const auto& s : services) {
    const bool up = db::ServiceIsUp(s, now_us, config.service_down_time);
    out << Column(s.binary, 16) << Column(s.host, 36) << Column(s.availability_zone, 16)
        << Column(s.disabled ? "disabled" : "enabled", 10) << Column(up ? ":-)" : "XXX", 5)
        << Column(s.frozen ? "True" : "False", 6)
        << (s.updated_at ? FormatIsoTime(*s.updated_at) : std::string("-")) << "\n";
  }
  return Status::Ok();
}

// Cinder's `service remove` deletes whatever it finds; Scoria refuses a live service, whose
// next heartbeat would only write the row again.
Status ServiceRemove(db::Database& db, const Config& config, int64_t now_us,
                     const std::string& binary, const std::string& host, std::ostream& out) {
  RETURN_IF_ERROR(db::InWriteTransaction(db, [&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto services, db::ListServices(tx, host, binary));
    if (services.empty()) {
      return NotFound("service " + binary + " on host " + host + " not found");
    }
    if (db::ServiceIsUp(services[0], now_us, config.service_down_time)) {
      return FailedPrecondition("service " + binary + " on host " + host +
                                " is up; stop it and wait service_down_time (" +
                                std::to_string(config.service_down_time) + " s) first");
    }
    return db::DeleteService(tx, host, binary);
  }));
  out << "Service " << binary << " on host " << host << " removed.\n";
  return Status::Ok();
}

// host@backend, with a #pool only where `pool_ok`.
bool IsBackendName(const std::string& h, bool pool_ok) {
  const auto at = h.find('@');
  const auto hash = h.find('#');
  if (hash != std::string::npos && (!pool_ok || hash + 1 == h.size())) return false;
  const std::string backend = h.substr(0, hash);
  return at != std::string::npos && at > 0 && at + 1 < backend.size() &&
         backend.find('@', at + 1) == std::string::npos;
}

Status UpdateHost(db::Database& db, const Config& config, int64_t now_us,
                  const std::string& current, const std::string& next, std::ostream& out) {
  if (!IsBackendName(current, /*pool_ok=*/false)) {
    return InvalidArgument("'" + current + "' is not a backend name (host@backend)");
  }
  if (!IsBackendName(next, /*pool_ok=*/true)) {
    return InvalidArgument("'" + next + "' is not a backend name (host@backend[#pool])");
  }
  db::BackendMove moved;
  RETURN_IF_ERROR(db::InWriteTransaction(db, [&](db::Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto services, db::ListServices(tx, current, std::string(db::kVolumeBinary)));
    if (!services.empty() && db::ServiceIsUp(services[0], now_us, config.service_down_time)) {
      return FailedPrecondition("the volume service of " + current +
                                " is up; stop it before moving its volumes");
    }
    ASSIGN_OR_RETURN(moved, db::MoveBackend(tx, current, next));
    return Status::Ok();
  }));
  out << "Moved " << moved.volumes << " volume(s) and " << moved.tasks << " task(s) from "
      << current << " to " << next << ".\n";
  return Status::Ok();
}

}  // namespace

int RunManage(db::Database& db, const Config& config, const std::vector<std::string>& args,
              int64_t now_us, std::ostream& out, std::ostream& err) {
  CLI::App app{"scoriad --manage: operator commands on the database"};
  app.name("scoriad --manage");
  app.require_subcommand(1);
  std::function<Status()> action;

  CLI::App* dbc = app.add_subcommand("db", "schema")->require_subcommand(1);
  dbc->add_subcommand("sync", "migrate to the newest schema and print its version")->callback([&] {
    action = [&]() -> Status {
      RETURN_IF_ERROR(db.Migrate());
      out << db.SchemaVersion() << "\n";
      return Status::Ok();
    };
  });
  dbc->add_subcommand("version", "print the schema version")->callback([&] {
    action = [&]() -> Status {
      out << db.SchemaVersion() << "\n";
      return Status::Ok();
    };
  });

  CLI::App* svc = app.add_subcommand("service", "service rows")->require_subcommand(1);
  svc->add_subcommand("list", "list every service")->callback([&] {
    action = [&] { return ServiceList(db, config, now_us, out); };
  });
  std::string binary, host;
  CLI::App* remove = svc->add_subcommand("remove", "remove a service that is down");
  remove->add_option("BINARY", binary, "e.g. cinder-volume")->required();
  remove->add_option("HOST", host, "e.g. node1@lvm")->required();
  remove->callback(
      [&] { action = [&] { return ServiceRemove(db, config, now_us, binary, host, out); }; });

  CLI::App* vol = app.add_subcommand("volume", "volume rows")->require_subcommand(1);
  std::string current, next;
  CLI::App* update = vol->add_subcommand("update_host", "move volumes to another backend name");
  update->add_option("--currenthost", current, "backend now named in the rows (host@backend)")
      ->required();
  update->add_option("--newhost", next, "backend to name instead (host@backend)")->required();
  update->callback(
      [&] { action = [&] { return UpdateHost(db, config, now_us, current, next, out); }; });

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "scoriad --manage: " << e.what() << "\n";
    return 2;
  }
  Status st = action();
  if (!st.ok()) {
    err << "scoriad --manage: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace scoria::manage
