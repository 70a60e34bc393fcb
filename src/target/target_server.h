// TargetServer: the iSCSI target inside the volume service (DESIGN.md "Data path"). It listens
// on target_ip_address:target_port, hands each accepted connection to one of its reactor
// threads (round robin; the connection stays there), and implements volume::Exporter: one
// target per exported volume (`prefix + "volume-" + id`, LUN 0), an access list per target
// (initiator IQN + that attachment's CHAP credentials + mode), and closing the sessions an
// access change takes away.
//
// Threading: the Exporter methods run on control-plane threads; connections run on reactor
// threads and call back into the server (login policy, Attach, VisibleTargets,
// ConnectionClosed). `mu_` guards the export table and the session registry; it is never held
// while calling into a connection (closing is a message posted to the connection's reactor).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "target/connection.h"
#include "target/discovery.h"
#include "target/login.h"
#include "target/params.h"
#include "target/reactor.h"
#include "volume/exporter.h"

namespace scoria::target {

class TargetServer : public volume::Exporter {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    uint16_t port = 3260;  // 0 = ephemeral (tests)
    int io_threads = 0;    // 0 = one per core
    std::string target_prefix = "iqn.2010-10.org.openstack:";
    TargetParams params;
    size_t max_connections = 1024;
    size_t max_connections_per_address = 64;  // before login the initiator is only an address
    // Longest adaptive poll of a reactor before it blocks, in µs (reactor.h); 0 = never poll.
    int poll_max_us = 50;
  };

  explicit TargetServer(Options options);
  ~TargetServer() override;

  // Binds and starts the reactors; Unavailable naming address:port when the bind fails.
  Status Start();
  void Stop();
  uint16_t port() const { return bound_port_; }

  // volume::Exporter
  Status Export(const std::string& volume_id, std::shared_ptr<volume::BlockDevice> device) override;
  Status Allow(const std::string& volume_id, const volume::ExportAccess& access) override;
  Status Revoke(const std::string& volume_id, const std::string& attachment_id) override;
  Status Unexport(const std::string& volume_id) override;
  void CapacityChanged(const std::string& volume_id) override;
  std::string TargetName(const std::string& volume_id) const override;
  std::string Portal() const override;

  // For connections (reactor threads).
  const TargetParams& target_params() const { return options_.params; }
  LoginPolicy& login_policy() { return policy_; }
  uint16_t portal_group_tag() const { return 1; }
  uint16_t NewTsih();
  // Registers a logged-in normal session; closes an older session with the same initiator,
  // ISID and target (session reinstatement). nullopt when the target or the access is gone.
  std::optional<SessionTarget> Attach(const std::string& target_name,
                                      const std::string& initiator,
                                      const std::shared_ptr<Connection>& conn);
  void ConnectionClosed(Connection* conn);
  std::vector<DiscoveryTarget> VisibleTargets(const std::string& initiator,
                                               const std::string& only_target,
                                               const std::string& local_address,
                                               uint16_t local_port);

 private:
  class Policy : public LoginPolicy {
   public:
    explicit Policy(TargetServer& s) : s_(s) {}
    TargetAccess Lookup(const std::string& target_name, const std::string& initiator) override;

   private:
    TargetServer& s_;
  };

  struct ExportEntry {
    std::string volume_id;
    std::string name;
    std::shared_ptr<volume::BlockDevice> device;
    std::shared_ptr<LogicalUnit> rw;
    std::shared_ptr<LogicalUnit> ro;
    std::map<std::string, volume::ExportAccess> access;  // by attachment id
  };

  // A connection as the control plane sees it. The Connection's own login fields
  // (initiator_name(), target_name(), discovery()...) belong to its reactor thread, which
  // writes them at login without mu_; reading them from Revoke/Unexport/Attach on other
  // threads was a data race (ThreadSanitizer, tests/unit/target/target_server_test.cc). So
  // what those calls match on is this copy, written under mu_ by Attach.
  struct Registered {
    std::shared_ptr<Connection> conn;
    std::string target_name;  // empty until Attach: logins in progress, discovery sessions
    std::string initiator;
    std::string session_key;  // Connection::session_key() of the attached session
  };

  void AcceptLoop();
  // Posts a close to every registered connection whose Registered entry matches `pred`.
  // Caller holds mu_.
  template <typename Pred>
  void CloseMatchingLocked(Pred pred);

  const Options options_;
  Policy policy_{*this};
  int listen_fd_ = -1;
  uint16_t bound_port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Reactor>> reactors_;
  size_t next_reactor_ = 0;
  std::atomic<uint16_t> next_tsih_{1};

  mutable std::mutex mu_;
  std::map<std::string, ExportEntry> exports_;       // by volume id        GUARDED_BY(mu_)
  std::map<std::string, std::string> by_name_;       // target name -> id   GUARDED_BY(mu_)
  std::map<Connection*, Registered> connections_;    // by Connection    GUARDED_BY(mu_)
  std::map<std::string, size_t> per_address_;        // peer address -> n   GUARDED_BY(mu_)
};

}  // namespace scoria::target
