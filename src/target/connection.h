// Connection: one iSCSI TCP connection (and, with MaxConnections=1, its session), driven by
// the Reactor thread that owns it. It turns the byte stream into PDUs (PduParser), runs login
// (LoginNegotiator), then the full feature phase:
//
//   SCSI Command --(CmdSN in window, in order)--> Task
//     write: immediate data + unsolicited Data-Out (InitialR2T=No, up to FirstBurstLength)
//            + R2T/Data-Out sequences (<= MaxBurstLength, one outstanding R2T)
//     when all data is in: LogicalUnit::Execute (asynchronous; the completion is posted back
//     to this reactor) -> Data-In PDUs (<= the initiator's MaxRecvDataSegmentLength, status
//     collapsed into the last one when GOOD) or a SCSI Response with sense; residuals from EDTL
//   NOP-Out -> NOP-In;  Text SendTargets -> Text Response;  TMF -> abort/reset, then response
//   Logout -> Logout Response, close;  anything malformed -> Reject or drop the connection.
//
// Lifetime: owned by shared_ptr (TargetServer keeps the registry, the reactor handler and
// pending completions hold references); Close() is idempotent and runs on the reactor thread.
// Threading: every method runs on the owning reactor thread except RequestClose().
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "target/logical_unit.h"
#include "target/output_queue.h"
#include "target/pdu.h"
#include "target/pdu_build.h"
#include "target/pdu_parser.h"
#include "target/reactor.h"

namespace scoria::target {

class TargetServer;
class LoginNegotiator;
class TextExchange;

// Negotiated values the full feature phase needs.
struct FeatureParams {
  uint32_t send_max_data_segment = 8192;  // the initiator's MaxRecvDataSegmentLength
  uint32_t recv_max_data_segment = 8192;  // ours
  uint32_t first_burst = 65536;
  uint32_t max_burst = 262144;
  bool initial_r2t = true;
  bool immediate_data = true;
  DigestConfig digests;
};

// What a normal session is logged in to.
struct SessionTarget {
  std::string volume_id;
  std::string target_name;
  std::shared_ptr<LogicalUnit> unit;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(TargetServer& server, Reactor& reactor, int fd, std::string local_address,
             uint16_t local_port, std::string peer);
  ~Connection();

  // Reactor thread: registers with the reactor.
  void Start();
  // Any thread: closes the connection on its reactor thread.
  void RequestClose();

  const std::string& initiator_name() const { return initiator_name_; }
  const std::string& target_name() const { return target_.target_name; }
  const std::string& volume_id() const { return target_.volume_id; }
  std::string session_key() const;  // initiator name + ISID + target: reinstatement key
  std::string session_key_for(const std::string& target) const;
  const std::string& peer() const { return peer_; }
  bool discovery() const { return discovery_; }

 private:
  struct Task;

  void OnEvents(uint32_t events);
  void OnReadable();
  void OnWritable();
  // The parser's data sink: where a Data-Out's or an immediate-data command's data segment
  // goes (the task's buffer), so it is not copied again; empty = let the parser allocate.
  std::span<uint8_t> DataDestination(const Bhs& bhs, uint32_t length);
  void Close();
  void HandlePdu(ReceivedPdu& in);
  void HandleLogin(Pdu& pdu);
  void CompleteLogin();
  void HandleScsiCommand(Pdu& pdu);
  void StartCommand(std::unique_ptr<Task> task);
  void HandleDataOut(Pdu& pdu);
  void HandleNopOut(Pdu& pdu);
  void HandleText(Pdu& pdu);
  void HandleTmf(Pdu& pdu);
  void HandleLogout(Pdu& pdu);
  void SendR2tIfNeeded(Task& task);
  void Execute(Task& task);
  void Finish(uint32_t itt, ScsiResult result);
  void FailTask(Task& task, uint8_t sense_key, uint8_t asc, uint8_t ascq);
  // The largest Expected Data Transfer Length a write may announce (buffers are sized by it).
  uint64_t WriteLimit() const;
  void SendResponse(Task& task, const ScsiResult& result);
  void Send(const Pdu& pdu);
  // Queues a Data-In PDU whose data is borrowed from `payload` (kept alive until sent).
  void SendShared(const Pdu& pdu, std::shared_ptr<const void> payload);
  void Flush();
  // Flush at the end of this reactor iteration: completions of one iteration share a send.
  void ScheduleFlush();
  void Reject(uint8_t reason, const Bhs& bhs);
  TargetSn Sn(bool advance_stat_sn);
  void MaybeAnswerTmf();
  void RunQueuedCommands();

  TargetServer& server_;
  Reactor& reactor_;
  int fd_;
  const std::string local_address_;
  const uint16_t local_port_;
  const std::string peer_;
  bool closed_ = false;
  bool close_after_flush_ = false;
  bool flush_scheduled_ = false;
  bool want_writable_ = false;  // EPOLLOUT is in the reactor's interest set

  PduParser parser_;
  std::vector<uint8_t> in_buf_;
  std::vector<std::byte> pending_data_out_;  // immediate data of the PDU being parsed
  OutputQueue out_;  // Data-In payloads are referenced, not copied

  // Login.
  std::unique_ptr<LoginNegotiator> login_;
  std::unique_ptr<TextExchange> text_;
  bool full_feature_ = false;
  bool discovery_ = false;
  std::string initiator_name_;
  Isid isid_{};
  uint16_t tsih_ = 0;
  bool read_only_ = false;
  SessionTarget target_;
  Nexus nexus_;
  FeatureParams params_;

  // Sequence numbers (RFC 7143 §4.2.2).
  uint32_t stat_sn_ = 0;
  uint32_t exp_cmd_sn_ = 0;
  uint32_t next_ttt_ = 1;

  std::map<uint32_t, std::unique_ptr<Task>> tasks_;      // by ITT
  std::map<uint32_t, std::unique_ptr<Task>> queued_;     // commands ahead of ExpCmdSN, by CmdSN
  // A TMF waits for the tasks it aborted to drain before it is answered.
  struct PendingTmf {
    uint32_t itt;
    uint8_t response;
  };
  std::optional<PendingTmf> pending_tmf_;
};

}  // namespace scoria::target
