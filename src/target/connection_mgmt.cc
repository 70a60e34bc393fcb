// Connection: the PDUs outside the SCSI command flow (RFC 7143 §11): NOP-Out, Text (SendTargets
// and renegotiation), task management (ABORT TASK and friends, answered once the tasks they
// cover have finished) and Logout. The command flow and the socket are in connection.cc.
#include <spdlog/spdlog.h>

#include "target/connection.h"
#include "target/connection_task.h"
#include "target/discovery.h"
#include "target/scsi_sense.h"
#include "target/target_server.h"
#include "target/text.h"

namespace scoria::target {

void Connection::HandleNopOut(Pdu& pdu) {
  if (!pdu.immediate() && !SnLess(pdu.cmd_sn(), exp_cmd_sn_) && pdu.cmd_sn() == exp_cmd_sn_) {
    ++exp_cmd_sn_;
    RunQueuedCommands();
  }
  if (pdu.itt() == kReservedTag) return;  // an answer to our ping, or a no-reply NOP
  auto data = pdu.data();
  Send(BuildNopIn(pdu.itt(), kReservedTag, pdu.lun(), Sn(true),
                  std::vector<uint8_t>(data.begin(), data.end())));
}

void Connection::HandleText(Pdu& pdu) {
  if (!pdu.immediate() && pdu.cmd_sn() == exp_cmd_sn_) {
    ++exp_cmd_sn_;
    RunQueuedCommands();
  }
  if (!text_) {
    TextExchange::Options o;
    o.type = discovery_ ? SessionType::kDiscovery : SessionType::kNormal;
    o.session_target = target_.target_name;
    o.max_xmit_data_segment_length = params_.send_max_data_segment;
    text_ = std::make_unique<TextExchange>(o);
  }
  auto visible = [this] {
    return server_.VisibleTargets(initiator_name_, discovery_ ? "" : target_.target_name,
                                  local_address_, local_port_);
  };
  auto resp = text_->OnRequest(pdu, Sn(true), visible);
  if (!resp.ok()) {
    --stat_sn_;  // nothing was answered with that StatSN
    Reject(kRejectInvalidField, pdu.bhs());
    return;
  }
  Send(*resp);
}

void Connection::HandleTmf(Pdu& pdu) {
  if (!pdu.immediate() && pdu.cmd_sn() == exp_cmd_sn_) {
    ++exp_cmd_sn_;
    RunQueuedCommands();
  }
  const uint8_t fn = pdu.tmf_function();
  uint8_t response = kTmfRespComplete;
  size_t waiting = 0;
  auto abort = [&](Task& t) {
    if (t.executing) {
      t.aborted = true;
      ++waiting;
      return false;
    }
    return true;  // not started: drop it now
  };
  switch (fn) {
    case kTmfAbortTask: {
      auto it = tasks_.find(pdu.referenced_task_tag());
      if (it == tasks_.end()) {
        const uint32_t ref = pdu.ref_cmd_sn();
        if (queued_.erase(ref) > 0) {
          response = kTmfRespComplete;  // received out of order, never started: dropped
        } else if (SnLess(ref, exp_cmd_sn_)) {
          // Received and already answered (the initiator may have its response in flight):
          // there is nothing left to abort. libiscsi's AbortTaskSimpleAsync accepts exactly
          // "Function complete" with no command response, or this with one.
          response = kTmfRespNoTask;
        } else {
          // RFC 7143 §11.6.1: a command not received yet whose RefCmdSN is in the window and
          // not newer than this TMF is considered received and the abort is complete.
          response = SnLess(ref, pdu.cmd_sn()) || ref == pdu.cmd_sn() ? kTmfRespComplete
                                                                      : kTmfRespNoTask;
        }
      } else if (abort(*it->second)) {
        tasks_.erase(it);
      }
      break;
    }
    case kTmfAbortTaskSet:
    case kTmfClearTaskSet:
    case kTmfLogicalUnitReset:
    case kTmfTargetWarmReset:
    case kTmfTargetColdReset: {
      if (fn != kTmfTargetWarmReset && fn != kTmfTargetColdReset && DecodeLun(pdu.lun()) != 0) {
        response = kTmfRespNoLun;
        break;
      }
      for (auto it = tasks_.begin(); it != tasks_.end();) {
        if (abort(*it->second)) {
          it = tasks_.erase(it);
        } else {
          ++it;
        }
      }
      queued_.clear();
      if (target_.unit && fn != kTmfAbortTaskSet && fn != kTmfClearTaskSet) {
        target_.unit->Reset(nexus_);
      }
      if (fn == kTmfTargetColdReset) close_after_flush_ = true;
      break;
    }
    case kTmfClearAca: response = kTmfRespComplete; break;
    case kTmfTaskReassign: response = kTmfRespReassignUnsupported; break;
    default: response = kTmfRespRejected; break;
  }
  pending_tmf_ = PendingTmf{pdu.itt(), response};
  (void)waiting;
  MaybeAnswerTmf();
}

void Connection::MaybeAnswerTmf() {
  if (!pending_tmf_) return;
  size_t still = 0;
  for (const auto& [itt, t] : tasks_) still += t->aborted ? 1 : 0;
  if (still > 0) return;
  Send(BuildTmfResponse(pending_tmf_->itt, pending_tmf_->response, Sn(true)));
  pending_tmf_.reset();
}

void Connection::HandleLogout(Pdu& pdu) {
  if (!pdu.immediate() && pdu.cmd_sn() == exp_cmd_sn_) ++exp_cmd_sn_;
  const uint8_t reason = pdu.logout_reason();
  uint8_t response = kLogoutRespSuccess;
  if (reason == kLogoutRemoveForRecovery) response = kLogoutRespRecoveryUnsupported;
  Send(BuildLogoutResponse(pdu.itt(), response, 0, 0, Sn(true)));
  if (response == kLogoutRespSuccess) close_after_flush_ = true;
}

}  // namespace scoria::target
