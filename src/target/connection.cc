#include "target/connection.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "target/connection_task.h"
#include "target/discovery.h"
#include "target/login.h"
#include "target/scsi_sense.h"
#include "target/target_server.h"
#include "target/text.h"

namespace scoria::target {
namespace {

constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kMaxTasks = 512;  // beyond the advertised window: a misbehaving initiator

// Fixed-format sense data (SPC-4 4.5.3).
std::vector<uint8_t> Sense(uint8_t key, uint8_t asc, uint8_t ascq) {
  std::vector<uint8_t> s(18, 0);
  s[0] = 0x70;
  s[2] = key;
  s[7] = 10;
  s[12] = asc;
  s[13] = ascq;
  return s;
}

// Bytes of Data-Out a write CDB implies (SBC-3), for residuals against EDTL. nullopt for
// commands whose data-out length the CDB does not state in blocks.
std::optional<uint64_t> ImpliedWriteLength(const uint8_t* cdb, uint32_t block_size) {
  auto be32 = [&](int o) {
    return static_cast<uint32_t>(cdb[o]) << 24 | cdb[o + 1] << 16 | cdb[o + 2] << 8 | cdb[o + 3];
  };
  switch (cdb[0]) {
    case 0x0a: return uint64_t{cdb[4] == 0 ? 256u : cdb[4]} * block_size;  // WRITE(6)
    case 0x2a:  // WRITE(10)
    case 0x2e:  // WRITE AND VERIFY(10)
      return uint64_t{static_cast<uint32_t>(cdb[7] << 8 | cdb[8])} * block_size;
    case 0xaa:  // WRITE(12)
    case 0xae:  // WRITE AND VERIFY(12)
      return uint64_t{be32(6)} * block_size;
    case 0x8a:  // WRITE(16)
    case 0x8e:  // WRITE AND VERIFY(16)
      return uint64_t{be32(10)} * block_size;
    default: return std::nullopt;
  }
}

}  // namespace


Connection::Connection(TargetServer& server, Reactor& reactor, int fd, std::string local_address,
                       uint16_t local_port, std::string peer)
    : server_(server),
      reactor_(reactor),
      fd_(fd),
      local_address_(std::move(local_address)),
      local_port_(local_port),
      peer_(std::move(peer)) {
  in_buf_.resize(kReadChunk);
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Connection::session_key() const { return session_key_for(target_.target_name); }

std::string Connection::session_key_for(const std::string& target) const {
  std::string key = initiator_name_ + "|";
  for (uint8_t b : isid_) key += std::to_string(b) + ".";
  return key + "|" + target;
}

void Connection::Start() {
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  LoginOptions opts;
  opts.target_portal_group_tag = server_.portal_group_tag();
  login_ = std::make_unique<LoginNegotiator>(server_.target_params(), opts,
                                             &server_.login_policy());
  parser_.set_data_sink(
      [this](const Bhs& bhs, uint32_t length) { return DataDestination(bhs, length); });
  auto self = shared_from_this();
  reactor_.Add(fd_, EPOLLIN | EPOLLRDHUP, [self](uint32_t ev) { self->OnEvents(ev); });
}

void Connection::RequestClose() {
  auto self = shared_from_this();
  reactor_.Post([self] { self->Close(); });
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  reactor_.Remove(fd_);
  ::shutdown(fd_, SHUT_RDWR);
  out_.Clear();  // releases the Data-In buffers still queued
  // Tasks still executing complete into the void: their completions find closed_ set.
  if (target_.unit) target_.unit->NexusLost(nexus_);
  server_.ConnectionClosed(this);
}

void Connection::OnEvents(uint32_t events) {
  if (closed_) return;
  if (events & (EPOLLERR | EPOLLHUP)) {
    Close();
    return;
  }
  if (events & EPOLLOUT) OnWritable();
  if (!closed_ && (events & (EPOLLIN | EPOLLRDHUP))) OnReadable();
}

void Connection::OnReadable() {
  while (!closed_) {
    ssize_t n = ::recv(fd_, in_buf_.data(), in_buf_.size(), 0);
    if (n == 0) {
      Close();
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      Close();
      return;
    }
    std::span<const uint8_t> rest(in_buf_.data(), static_cast<size_t>(n));
    std::vector<ReceivedPdu> pdus;
    while (!rest.empty() && !closed_) {
      // One PDU at a time: during login digests and limits change after the last login PDU,
      // and the data sink (DataDestination) must see the tasks as the PDUs before left them.
      pdus.clear();
      auto used = parser_.Feed(rest, &pdus, 1);
      for (auto& p : pdus) {
        if (closed_) break;
        HandlePdu(p);
      }
      if (!used.ok()) {
        spdlog::info("iscsi: {}: dropping connection: {}", peer_, used.status().message());
        Close();
        return;
      }
      rest = rest.subspan(*used);
    }
    if (static_cast<size_t>(n) < in_buf_.size()) break;
  }
  Flush();
}

std::span<uint8_t> Connection::DataDestination(const Bhs& bhs, uint32_t length) {
  if (!full_feature_) return {};
  const Pdu header(bhs);
  if (header.opcode() == Opcode::kDataOut) {
    // Data-Out at the offset the task expects next: straight into the command's buffer.
    // HandleDataOut still checks the PDU; if it fails the task, the bytes written are moot.
    auto it = tasks_.find(header.itt());
    if (it == tasks_.end()) return {};
    Task& task = *it->second;
    if (task.failed || task.executing || !task.cmd.write ||
        header.buffer_offset() != task.received ||
        length > task.cmd.data_out.size() - task.received) {
      return {};
    }
    return {reinterpret_cast<uint8_t*>(task.cmd.data_out.data()) + task.received, length};
  }
  if (header.opcode() == Opcode::kScsiCommand && header.write_bit() && params_.immediate_data &&
      length <= header.edtl() && length <= params_.first_burst &&
      header.edtl() <= WriteLimit()) {
    // Immediate data: into the buffer HandleScsiCommand then gives the task.
    pending_data_out_.assign(header.edtl(), std::byte{0});
    return {reinterpret_cast<uint8_t*>(pending_data_out_.data()), length};
  }
  return {};
}

uint64_t Connection::WriteLimit() const {
  // COMPARE AND WRITE carries twice its blocks; every other command at most one transfer. No
  // unit (a discovery session, an unexported target): only small parameter lists.
  return target_.unit ? 2 * uint64_t{target_.unit->MaxTransferBytes()} : 64u * 1024;
}

void Connection::OnWritable() { Flush(); }

void Connection::ScheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  reactor_.AtIterationEnd([self = shared_from_this()] {
    self->flush_scheduled_ = false;
    self->Flush();
  });
}

void Connection::Flush() {
  while (!closed_ && !out_.empty()) {
    ssize_t n = out_.SendTo(fd_);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!want_writable_) reactor_.Modify(fd_, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
        want_writable_ = true;
        return;
      }
      if (errno == EINTR) continue;
      Close();
      return;
    }
  }
  if (closed_) return;
  if (want_writable_) reactor_.Modify(fd_, EPOLLIN | EPOLLRDHUP);  // one epoll_ctl, not per send
  want_writable_ = false;
  if (close_after_flush_) Close();
}

void Connection::Send(const Pdu& pdu) {
  out_.Append(EncodedPdu(pdu, full_feature_ ? params_.digests : DigestConfig{}), nullptr);
}

void Connection::SendShared(const Pdu& pdu, std::shared_ptr<const void> payload) {
  out_.Append(EncodedPdu(pdu, full_feature_ ? params_.digests : DigestConfig{}),
              std::move(payload));
}

TargetSn Connection::Sn(bool advance_stat_sn) {
  TargetSn sn;
  sn.stat_sn = stat_sn_;
  sn.exp_cmd_sn = exp_cmd_sn_;
  sn.max_cmd_sn = exp_cmd_sn_ + server_.target_params().queue_depth - 1;
  if (advance_stat_sn) ++stat_sn_;
  return sn;
}

void Connection::Reject(uint8_t reason, const Bhs& bhs) { Send(BuildReject(reason, bhs, Sn(true))); }

void Connection::HandlePdu(ReceivedPdu& in) {
  Pdu& pdu = in.pdu;
  // Immediate data the sink placed belongs to this PDU only (HandleScsiCommand takes it).
  struct DropPending {
    std::vector<std::byte>& v;
    ~DropPending() { v = {}; }
  } drop_pending{pending_data_out_};
  if (!full_feature_) {
    if (pdu.opcode() != Opcode::kLoginRequest) {
      // RFC 7143 §6.3: anything but a Login Request before full feature phase ends it.
      Close();
      return;
    }
    HandleLogin(pdu);
    return;
  }
  if (in.data_digest_error) {
    Reject(kRejectDataDigest, pdu.bhs());
    if (pdu.opcode() == Opcode::kScsiCommand || pdu.opcode() == Opcode::kDataOut) {
      auto it = tasks_.find(pdu.itt());
      if (it != tasks_.end() && !it->second->executing) {
        FailTask(*it->second, 0x0b, 0x47, 0x05);  // ABORTED COMMAND, CRC error
      }
    }
    return;
  }
  if (discovery_ && pdu.opcode() != Opcode::kTextRequest &&
      pdu.opcode() != Opcode::kLogoutRequest && pdu.opcode() != Opcode::kNopOut) {
    Reject(kRejectProtocolError, pdu.bhs());
    return;
  }
  switch (pdu.opcode()) {
    case Opcode::kScsiCommand: HandleScsiCommand(pdu); break;
    case Opcode::kDataOut: HandleDataOut(pdu); break;
    case Opcode::kNopOut: HandleNopOut(pdu); break;
    case Opcode::kTextRequest: HandleText(pdu); break;
    case Opcode::kTaskMgmtRequest: HandleTmf(pdu); break;
    case Opcode::kLogoutRequest: HandleLogout(pdu); break;
    case Opcode::kLoginRequest: Reject(kRejectProtocolError, pdu.bhs()); break;
    case Opcode::kSnack: Reject(kRejectSnack, pdu.bhs()); break;  // ERL 0
    default: Reject(kRejectNotSupported, pdu.bhs()); break;
  }
}

// ---------------------------------------------------------------------------------------------
// Login

void Connection::HandleLogin(Pdu& pdu) {
  LoginStep step = login_->OnRequest(pdu);
  if (step.outcome == LoginOutcome::kCompleted) {
    const LoginInfo& info = login_->info();
    initiator_name_ = info.initiator_name;
    isid_ = info.isid;
    discovery_ = info.type == SessionType::kDiscovery;
    if (info.tsih != 0) {
      // Adding a connection to an existing session (MC/S) is not supported: MaxConnections=1.
      step.response = BuildLoginFailure(pdu, kLoginSessionDoesNotExist, Sn(false));
      step.outcome = LoginOutcome::kFailed;
      step.error = FailedPrecondition("login to an existing session (TSIH " +
                                      std::to_string(info.tsih) + ")");
    } else if (!discovery_) {
      auto t = server_.Attach(info.target_name, info.initiator_name, shared_from_this());
      if (!t) {
        // The export or its access went away between the policy check and now.
        step.response = BuildLoginFailure(pdu, kLoginTargetRemoved, Sn(false));
        step.outcome = LoginOutcome::kFailed;
        step.error = NotFound("target " + info.target_name + " is gone");
      } else {
        target_ = std::move(*t);
      }
    }
  }
  if (step.outcome != LoginOutcome::kCompleted) {
    out_.Append(EncodedPdu(step.response, DigestConfig{}), nullptr);
    if (step.outcome == LoginOutcome::kFailed) {
      spdlog::info("iscsi: login from {} failed (0x{:04x}): {}", peer_, step.status,
                   step.error.message());
      close_after_flush_ = true;
    }
    return;
  }
  const LoginInfo& info = login_->info();
  tsih_ = server_.NewTsih();
  step.response.set_tsih(tsih_);
  out_.Append(EncodedPdu(step.response, DigestConfig{}), nullptr);
  nexus_.id = session_key();
  nexus_.initiator_name = initiator_name_;
  const SessionParams& sp = info.params;
  params_.send_max_data_segment = sp.max_xmit_data_segment_length;
  params_.recv_max_data_segment = sp.max_recv_data_segment_length;
  params_.first_burst = sp.first_burst_length;
  params_.max_burst = sp.max_burst_length;
  params_.initial_r2t = sp.initial_r2t;
  params_.immediate_data = sp.immediate_data;
  params_.digests = DigestConfig{sp.header_digest, sp.data_digest};
  exp_cmd_sn_ = info.exp_cmd_sn;
  stat_sn_ = info.next_stat_sn;
  // Digests and limits apply from the next PDU in each direction.
  full_feature_ = true;
  parser_.set_digests(params_.digests);
  parser_.set_max_data_segment_length(params_.recv_max_data_segment);
  login_.reset();
  spdlog::info("iscsi: {} logged in from {} ({}{})", initiator_name_, peer_,
               discovery_ ? "discovery session" : "session to ", target_.target_name);
}

// ---------------------------------------------------------------------------------------------
// SCSI commands and data

void Connection::HandleScsiCommand(Pdu& pdu) {
  auto task = std::make_unique<Task>();
  task->itt = pdu.itt();
  task->cmd_sn = pdu.cmd_sn();
  task->lun = pdu.lun();
  task->immediate = pdu.immediate();
  auto cdb = pdu.FullCdb();
  if (!cdb.ok() || cdb->size() > sizeof(task->cmd.cdb)) {
    Reject(kRejectInvalidField, pdu.bhs());
    return;
  }
  std::copy(cdb->begin(), cdb->end(), task->cmd.cdb);
  task->cmd.cdb_length = cdb->size();
  task->cmd.expected_length = pdu.edtl();
  task->cmd.read = pdu.read_bit();
  task->cmd.write = pdu.write_bit();
  auto data = pdu.data();
  if (task->cmd.write) {
    if (data.size() > task->cmd.expected_length || data.size() > params_.first_burst ||
        (!params_.immediate_data && !data.empty())) {
      Reject(kRejectProtocolError, pdu.bhs());
      return;
    }
    if (task->cmd.expected_length > WriteLimit()) {
      // Failed in its turn (StartCommand), without a buffer: the Expected Data Transfer Length
      // is the initiator's word, up to 4 GiB, and must not size an allocation.
      task->oversized = true;
    } else if (!data.empty() &&
               data.data() == reinterpret_cast<uint8_t*>(pending_data_out_.data())) {
      task->cmd.data_out = std::move(pending_data_out_);  // the parser put the data there
    } else {
      task->cmd.data_out.resize(task->cmd.expected_length);
      if (!data.empty()) std::memcpy(task->cmd.data_out.data(), data.data(), data.size());
    }
    task->received = static_cast<uint32_t>(data.size());
    task->unsolicited_end = params_.initial_r2t
                                ? task->received
                                : std::min(params_.first_burst, task->cmd.expected_length);
  } else if (!data.empty()) {
    Reject(kRejectProtocolError, pdu.bhs());
    return;
  }
  if (tasks_.size() + queued_.size() >= kMaxTasks || tasks_.count(task->itt)) {
    Reject(tasks_.count(task->itt) ? kRejectTaskInProgress : kRejectProtocolError, pdu.bhs());
    return;
  }

  if (task->immediate) {
    StartCommand(std::move(task));
    return;
  }
  // Commands outside [ExpCmdSN, MaxCmdSN] are dropped silently (RFC 7143 §4.2.2.1).
  const uint32_t max_cmd_sn = exp_cmd_sn_ + server_.target_params().queue_depth - 1;
  if (SnLess(task->cmd_sn, exp_cmd_sn_) || SnLess(max_cmd_sn, task->cmd_sn)) return;
  if (task->cmd_sn != exp_cmd_sn_) {
    queued_[task->cmd_sn] = std::move(task);
    return;
  }
  ++exp_cmd_sn_;
  StartCommand(std::move(task));
  RunQueuedCommands();
}

void Connection::RunQueuedCommands() {
  while (!queued_.empty()) {
    auto it = queued_.find(exp_cmd_sn_);
    if (it == queued_.end()) break;
    auto task = std::move(it->second);
    queued_.erase(it);
    ++exp_cmd_sn_;
    StartCommand(std::move(task));
  }
}

void Connection::StartCommand(std::unique_ptr<Task> owned) {
  Task& task = *owned;
  tasks_[task.itt] = std::move(owned);
  if (task.oversized) {
    FailTask(task, 0x05, 0x24, 0x00);  // ILLEGAL REQUEST, INVALID FIELD IN CDB
    return;
  }
  if (task.cmd.write && task.received < task.cmd.expected_length) {
    // Unsolicited Data-Out follows until unsolicited_end, then we solicit the rest.
    if (task.received >= task.unsolicited_end) SendR2tIfNeeded(task);
    return;
  }
  Execute(task);
}

void Connection::SendR2tIfNeeded(Task& task) {
  if (task.r2t_end != 0 || task.received >= task.cmd.expected_length) return;
  const uint32_t len = std::min(params_.max_burst, task.cmd.expected_length - task.received);
  task.ttt = next_ttt_++;
  if (next_ttt_ == kReservedTag) next_ttt_ = 1;
  task.r2t_end = task.received + len;
  task.expected_data_sn = 0;
  R2tFields f;
  f.itt = task.itt;
  f.lun = task.lun;
  f.ttt = task.ttt;
  f.r2t_sn = task.r2t_sn++;
  f.buffer_offset = task.received;
  f.desired_length = len;
  f.sn = Sn(false);
  Send(BuildR2t(f));
}

void Connection::HandleDataOut(Pdu& pdu) {
  auto it = tasks_.find(pdu.itt());
  if (it == tasks_.end()) return;  // late data of an aborted or failed task
  Task& task = *it->second;
  if (task.failed || task.executing || !task.cmd.write) return;
  auto data = pdu.data();
  const bool solicited = pdu.ttt() != kReservedTag;
  const uint32_t end = solicited ? task.r2t_end : task.unsolicited_end;
  const bool ok = (!solicited || pdu.ttt() == task.ttt) && pdu.data_sn() == task.expected_data_sn &&
                  pdu.buffer_offset() == task.received && data.size() <= end - task.received &&
                  (solicited || task.r2t_end == 0);
  if (!ok) {
    // Out-of-order, duplicate or overlong data at ERL 0: the command cannot complete
    // correctly. Fail it now rather than wait for data that will never fit.
    FailTask(task, 0x0b, 0x4b, 0x00);  // ABORTED COMMAND, DATA PHASE ERROR
    return;
  }
  std::byte* dest = task.cmd.data_out.data() + task.received;
  if (!data.empty() && data.data() != reinterpret_cast<const uint8_t*>(dest)) {
    std::memcpy(dest, data.data(), data.size());  // the data sink did not place it
  }
  task.received += static_cast<uint32_t>(data.size());
  ++task.expected_data_sn;
  if (!pdu.final_bit()) return;
  if (solicited) {
    if (task.received != task.r2t_end) {
      FailTask(task, 0x0b, 0x4b, 0x00);
      return;
    }
    task.r2t_end = 0;
  } else {
    task.unsolicited_end = task.received;  // the initiator ended its unsolicited burst
  }
  task.expected_data_sn = 0;
  if (task.received >= task.cmd.expected_length) {
    Execute(task);
  } else {
    SendR2tIfNeeded(task);
  }
}

void Connection::Execute(Task& task) {
  task.executing = true;
  if (!target_.unit || DecodeLun(task.lun) != 0) {
    // Only LUN 0 exists: REPORT LUNS and INQUIRY still work on others (SPC-4 says INQUIRY to
    // an unknown LUN answers with peripheral qualifier 3), the rest get LUN NOT SUPPORTED.
    if (target_.unit && (task.cmd.cdb[0] == 0xa0 || task.cmd.cdb[0] == 0x12)) {
      // handled by the unit below, it ignores the LUN
    } else {
      ScsiResult r;
      r.status = kStatusCheckCondition;
      r.sense = Sense(0x05, 0x25, 0x00);
      Finish(task.itt, std::move(r));
      return;
    }
  }
  std::weak_ptr<Connection> weak = shared_from_this();
  Reactor* reactor = &reactor_;
  const uint32_t itt = task.itt;
  ScsiCommand cmd = std::move(task.cmd);
  // The callback holds the unit: after an Unexport this connection may hold its last
  // reference, and a connection closed with commands in flight is destroyed before they
  // complete; the unit must outlive its device I/O, whose completions use it (a
  // heap-use-after-free of the ScsiUnit under ThreadSanitizer, target_server_test.cc).
  std::shared_ptr<LogicalUnit> unit = target_.unit;
  unit->Execute(nexus_, std::move(cmd), [weak, reactor, itt, unit](ScsiResult result) {
    auto self = weak.lock();
    if (!self) return;
    if (reactor->InThread()) {
      self->Finish(itt, std::move(result));
      self->ScheduleFlush();
    } else {
      // Completions posted together (librbd's and libnfs's threads finish several at once)
      // go out in one send at the end of the reactor's iteration, not one send each.
      reactor->Post([self, itt, r = std::move(result)]() mutable {
        self->Finish(itt, std::move(r));
        self->ScheduleFlush();
      });
    }
  });
}

void Connection::FailTask(Task& task, uint8_t key, uint8_t asc, uint8_t ascq) {
  ScsiResult r;
  r.status = kStatusCheckCondition;
  r.sense = Sense(key, asc, ascq);
  task.failed = true;
  SendResponse(task, r);
  tasks_.erase(task.itt);  // late Data-Out for an unknown ITT is ignored
}

void Connection::Finish(uint32_t itt, ScsiResult result) {
  if (closed_) return;
  auto it = tasks_.find(itt);
  if (it == tasks_.end()) return;
  Task& task = *it->second;
  if (!task.aborted) SendResponse(task, result);
  tasks_.erase(it);
  MaybeAnswerTmf();  // a TMF waiting for aborted tasks is answered when the last one is gone
}

void Connection::SendResponse(Task& task, const ScsiResult& result) {
  const uint32_t edtl = task.cmd.expected_length;
  const bool has_sense = !result.sense.empty();
  const uint32_t produced = static_cast<uint32_t>(result.data_in.size());
  if (task.cmd.read && produced > 0 && edtl > 0 && !has_sense) {
    // Data-In sequence(s): at most send_max_data_segment per PDU, F at the end of each
    // MaxBurstLength sequence, status collapsed into the last PDU.
    const uint32_t total = std::min(produced, edtl);
    const auto* bytes = reinterpret_cast<const uint8_t*>(result.data_in.data());
    // The Data-In PDUs reference the result's buffer until they are sent: no copy.
    const std::shared_ptr<const void> payload = result.data_in.Share();
    uint32_t off = 0;
    uint32_t in_burst = 0;
    while (off < total) {
      const uint32_t len = std::min({params_.send_max_data_segment, total - off,
                                     params_.max_burst - in_burst});
      const bool last = off + len >= total;
      DataInFields f;
      f.itt = task.itt;
      f.lun = task.lun;
      f.data_sn = task.data_in_sn++;
      f.buffer_offset = off;
      in_burst += len;
      f.final = last || in_burst >= params_.max_burst;
      if (f.final) in_burst = 0;
      if (last) {
        f.status = result.status;
        f.overflow = produced > edtl;
        f.underflow = produced < edtl;
        f.residual_count = produced > edtl ? produced - edtl : edtl - produced;
        f.sn = Sn(true);
      } else {
        f.sn = Sn(false);
      }
      SendShared(BuildDataIn(f, std::span<const uint8_t>(bytes + off, len)), payload);
      off += len;
      if (last) break;
    }
    return;
  }
  ScsiResponseFields f;
  f.itt = task.itt;
  f.status = result.status;
  f.exp_data_sn = task.data_in_sn;
  if (task.cmd.read) {
    f.overflow = produced > edtl;
    f.underflow = produced < edtl;
    f.residual_count = produced > edtl ? produced - edtl : edtl - produced;
  } else if (task.cmd.write && !task.failed && target_.unit) {
    // RFC 7143 §11.4.5: residuals compare EDTL with what the command wanted to transfer.
    if (auto implied = ImpliedWriteLength(task.cmd.cdb, target_.unit->BlockSize())) {
      if (*implied > edtl) {
        f.overflow = true;
        f.residual_count = static_cast<uint32_t>(std::min<uint64_t>(*implied - edtl, UINT32_MAX));
      } else if (*implied < edtl) {
        f.underflow = true;
        f.residual_count = static_cast<uint32_t>(edtl - *implied);
      }
    }
  }
  f.sn = Sn(true);
  Send(BuildScsiResponse(f, result.sense));
}

// ---------------------------------------------------------------------------------------------
// NOP, Text, TMF, Logout

}  // namespace scoria::target
