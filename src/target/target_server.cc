#include "target/target_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace scoria::target {

TargetServer::TargetServer(Options options) : options_(std::move(options)) {}

TargetServer::~TargetServer() { Stop(); }

Status TargetServer::Start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Internal(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(options_.port);
  const std::string where = options_.address + ":" + std::to_string(options_.port);
  if (::inet_pton(AF_INET, options_.address.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgument("target_ip_address " + options_.address + " is not an IPv4 address");
  }
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    Status st = Unavailable("cannot listen on " + where + ": " + std::strerror(errno));
    ::close(listen_fd_);
    listen_fd_ = -1;
    return st;
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  bound_port_ = ntohs(addr.sin_port);
  int threads = options_.io_threads > 0
                    ? options_.io_threads
                    : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) {
    ReactorOptions ro;
    ro.poll_max = std::chrono::microseconds(std::max(0, options_.poll_max_us));
    reactors_.push_back(std::make_unique<Reactor>(ro));
    reactors_.back()->Start();
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
  spdlog::info("iscsi: target listening on {}:{} ({} io threads)", options_.address, bound_port_,
               threads);
  return Status::Ok();
}

void TargetServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  {
    std::lock_guard lock(mu_);
    CloseMatchingLocked([](const Registered&) { return true; });
  }
  for (auto& r : reactors_) r->Stop();
  std::lock_guard lock(mu_);
  connections_.clear();
}

void TargetServer::AcceptLoop() {
  while (!stopping_) {
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) break;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      spdlog::warn("iscsi: accept: {}", std::strerror(errno));
      break;
    }
    char ip[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
    const std::string peer_addr = ip;
    sockaddr_in local{};
    socklen_t llen = sizeof(local);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen);
    char lip[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &local.sin_addr, lip, sizeof(lip));

    Reactor* reactor = reactors_[next_reactor_++ % reactors_.size()].get();
    std::shared_ptr<Connection> conn;
    {
      std::lock_guard lock(mu_);
      if (connections_.size() >= options_.max_connections ||
          per_address_[peer_addr] >= options_.max_connections_per_address) {
        spdlog::warn("iscsi: refusing a connection from {}: connection limit", peer_addr);
        ::close(fd);
        continue;
      }
      conn = std::make_shared<Connection>(*this, *reactor, fd, lip, ntohs(local.sin_port),
                                          peer_addr + ":" + std::to_string(ntohs(peer.sin_port)));
      connections_[conn.get()].conn = conn;
      ++per_address_[peer_addr];
    }
    reactor->Post([conn] { conn->Start(); });
  }
}

void TargetServer::ConnectionClosed(Connection* conn) {
  std::lock_guard lock(mu_);
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  const std::string& peer = conn->peer();
  const std::string addr = peer.substr(0, peer.rfind(':'));
  if (auto p = per_address_.find(addr); p != per_address_.end() && --p->second == 0) {
    per_address_.erase(p);
  }
  // The reactor still holds a reference until its handler returns; dropping ours is enough.
  connections_.erase(it);
}

template <typename Pred>
void TargetServer::CloseMatchingLocked(Pred pred) {
  for (auto& [ptr, r] : connections_) {
    if (pred(r)) r.conn->RequestClose();
  }
}

uint16_t TargetServer::NewTsih() {
  uint16_t t = next_tsih_++;
  if (t == 0) t = next_tsih_++;  // 0 means "new session" on the wire
  return t;
}

std::string TargetServer::TargetName(const std::string& volume_id) const {
  return options_.target_prefix + "volume-" + volume_id;
}

std::string TargetServer::Portal() const {
  return options_.address + ":" + std::to_string(bound_port_ ? bound_port_ : options_.port);
}

Status TargetServer::Export(const std::string& volume_id,
                            std::shared_ptr<volume::BlockDevice> device) {
  if (!device) return InvalidArgument("export of volume " + volume_id + " without a device");
  std::lock_guard lock(mu_);
  auto it = exports_.find(volume_id);
  if (it != exports_.end()) return Status::Ok();
  ExportEntry e;
  e.volume_id = volume_id;
  e.name = TargetName(volume_id);
  e.device = device;
  UnitConfig rw;
  rw.volume_id = volume_id;
  UnitConfig ro = rw;
  ro.read_only = true;
  e.rw = NewLogicalUnit(device, rw);
  e.ro = NewLogicalUnit(device, ro);
  by_name_[e.name] = volume_id;
  exports_[volume_id] = std::move(e);
  spdlog::info("iscsi: volume {} exported as {}", volume_id, TargetName(volume_id));
  return Status::Ok();
}

Status TargetServer::Allow(const std::string& volume_id, const volume::ExportAccess& access) {
  std::lock_guard lock(mu_);
  auto it = exports_.find(volume_id);
  if (it == exports_.end()) return FailedPrecondition("volume " + volume_id + " is not exported");
  it->second.access[access.attachment_id] = access;
  spdlog::info("iscsi: {} may log in to volume {} ({})", access.initiator, volume_id,
               access.read_only ? "ro" : "rw");
  return Status::Ok();
}

Status TargetServer::Revoke(const std::string& volume_id, const std::string& attachment_id) {
  std::lock_guard lock(mu_);
  auto it = exports_.find(volume_id);
  if (it == exports_.end()) return Status::Ok();
  auto a = it->second.access.find(attachment_id);
  if (a == it->second.access.end()) return Status::Ok();
  const std::string initiator = a->second.initiator;
  it->second.access.erase(a);
  bool still = false;
  for (const auto& [id, acc] : it->second.access) still |= acc.initiator == initiator;
  if (!still) {
    const std::string name = it->second.name;
    CloseMatchingLocked(
        [&](const Registered& r) { return r.target_name == name && r.initiator == initiator; });
  }
  return Status::Ok();
}

Status TargetServer::Unexport(const std::string& volume_id) {
  std::lock_guard lock(mu_);
  auto it = exports_.find(volume_id);
  if (it == exports_.end()) return Status::Ok();
  const std::string name = it->second.name;
  CloseMatchingLocked([&](const Registered& r) { return r.target_name == name; });
  by_name_.erase(name);
  exports_.erase(it);
  spdlog::info("iscsi: volume {} unexported", volume_id);
  return Status::Ok();
}

void TargetServer::CapacityChanged(const std::string& volume_id) {
  std::shared_ptr<LogicalUnit> rw, ro;
  std::shared_ptr<volume::BlockDevice> dev;
  {
    std::lock_guard lock(mu_);
    auto it = exports_.find(volume_id);
    if (it == exports_.end()) return;
    rw = it->second.rw;
    ro = it->second.ro;
    dev = it->second.device;
  }
  Status st = dev->Refresh();
  if (!st.ok()) spdlog::warn("iscsi: volume {}: size refresh failed: {}", volume_id, st.ToString());
  rw->CapacityChanged();
  ro->CapacityChanged();
  spdlog::info("iscsi: volume {} capacity changed", volume_id);
}

TargetAccess TargetServer::Policy::Lookup(const std::string& target_name,
                                          const std::string& initiator) {
  TargetAccess out;
  std::lock_guard lock(s_.mu_);
  auto n = s_.by_name_.find(target_name);
  if (n == s_.by_name_.end()) return out;
  out.exists = true;
  const ExportEntry& e = s_.exports_.at(n->second);
  for (const auto& [id, acc] : e.access) {
    if (acc.initiator != initiator) continue;
    out.allowed = true;
    if (!acc.chap_user.empty()) out.chap = ChapSecret{acc.chap_user, acc.chap_secret};
    if (!acc.target_chap_user.empty()) {
      out.mutual = ChapSecret{acc.target_chap_user, acc.target_chap_secret};
    }
    break;
  }
  return out;
}

std::optional<SessionTarget> TargetServer::Attach(const std::string& target_name,
                                                  const std::string& initiator,
                                                  const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(mu_);
  auto n = by_name_.find(target_name);
  if (n == by_name_.end()) return std::nullopt;
  const ExportEntry& e = exports_.at(n->second);
  const volume::ExportAccess* access = nullptr;
  for (const auto& [id, acc] : e.access) {
    if (acc.initiator == initiator) {
      access = &acc;
      break;
    }
  }
  if (!access) return std::nullopt;
  // Session reinstatement (RFC 7143 §6.3.5): a new leading login with the same initiator,
  // ISID and target replaces the old session.
  const std::string key = conn->session_key_for(target_name);
  CloseMatchingLocked([&](const Registered& r) {
    return r.conn != conn && !r.target_name.empty() && r.session_key == key;
  });
  if (auto reg = connections_.find(conn.get()); reg != connections_.end()) {
    reg->second.target_name = e.name;
    reg->second.initiator = initiator;
    reg->second.session_key = key;
  }
  return SessionTarget{e.volume_id, e.name, access->read_only ? e.ro : e.rw};
}

std::vector<DiscoveryTarget> TargetServer::VisibleTargets(const std::string& initiator,
                                                           const std::string& only_target,
                                                           const std::string& local_address,
                                                           uint16_t local_port) {
  std::vector<DiscoveryTarget> out;
  std::lock_guard lock(mu_);
  const std::string address = local_address + ":" + std::to_string(local_port) + "," +
                              std::to_string(portal_group_tag());
  for (const auto& [id, e] : exports_) {
    if (!only_target.empty() && e.name != only_target) continue;
    bool allowed = false;
    for (const auto& [aid, acc] : e.access) allowed |= acc.initiator == initiator;
    if (allowed) out.push_back(DiscoveryTarget{e.name, {address}});
  }
  return out;
}

}  // namespace scoria::target
