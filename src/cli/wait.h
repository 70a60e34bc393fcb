// --wait: poll a resource until it reaches a final state.
//
//   GET <path> every poll_interval_s ──► judge(resource, statuses seen so far)
//        │ 404 and until_gone                  │ kDone        │ kFailed        │ kPending
//        ▼                                     ▼              ▼                └─► sleep, again
//      OK (gone)                              OK        FailedPrecondition     (until timeout:
//                                                       "<kind> <id> is in      FailedPrecondition
//                                                        status 'error': <msg>" "timed out ...")
//
// On failure the newest user message the server holds for the resource
// (GET /messages?resource_uuid=<id>, Cinder's user messages) is appended when there is one.
// Any other HTTP or transport error while polling is returned as is.
//
// Progress goes to Output::err: on a terminal one line rewritten in place
// ("creating  3s"), otherwise one line per status change ("volume <id>: creating").
// kFailedPrecondition is only ever produced here (see cli/api_client.h), so app.cc can map it
// to exit code 4.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "common/status.h"

namespace scoria::cli {

// Time for --wait; a fake in tests makes waits instant and deterministic.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual double Now() = 0;  // seconds, monotonic
  virtual void Sleep(double seconds) = 0;
};

// steady_clock + this_thread::sleep_for.
Clock& SystemClock();

enum class Verdict { kPending, kDone, kFailed };

struct WaitSpec {
  std::string kind = "volume";  // for messages: "volume 1234: creating"
  std::string id;
  std::string path;            // e.g. "/volumes/<id>"
  std::string key = "volume";  // the member of the GET body holding the resource
  bool until_gone = false;     // delete: a 404 is the success
  // Decides from the resource (and the statuses seen so far, oldest first, including the
  // current one) whether to stop. Default: StatusVerdict.
  std::function<Verdict(const nlohmann::json&, const std::vector<std::string>&)> judge;
  double poll_interval_s = 0.2;
};

// A wait on resource `id` at `path` whose GET body holds it under `kind` ("volume",
// "snapshot", "backup"), judged by StatusVerdict.
WaitSpec WaitOn(const std::string& kind, const std::string& id, const std::string& path);

// available / in-use -> kDone; error* -> kFailed; anything else -> kPending.
Verdict StatusVerdict(const nlohmann::json& resource, const std::vector<std::string>& seen);

// Polls as described above. On kDone returns the last resource body (null when gone).
Result<nlohmann::json> WaitFor(Context& ctx, const WaitSpec& spec);

// The body of the delete verbs (delete, snapshot-delete, backup-delete, type-delete). For each
// argument (as ForEachArg: one failure per line on err, the rest still run), `request` finds
// the resource and asks the server to delete it, returning its id; in text mode each accepted
// one is announced as "Request to delete <noun> <arg> has been accepted.". When `wait_spec` is
// set (--wait), each accepted resource is then polled until it is gone (a 404), and the first
// wait failure is returned ahead of the per-argument result.
Status DeleteEach(Context& ctx, const std::vector<std::string>& args, const std::string& noun,
                  const std::function<Result<std::string>(const std::string& arg)>& request,
                  const std::function<WaitSpec(const std::string& id)>& wait_spec = nullptr);

}  // namespace scoria::cli
