#include "cli/wait.h"

#include <chrono>
#include <thread>

#include "lifecycle/volume_status.h"

namespace scoria::cli {
namespace {

class SteadyClock : public Clock {
 public:
  double Now() override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void Sleep(double seconds) override {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  }
};

std::string StatusOf(const nlohmann::json& resource) {
  auto it = resource.find("status");
  return it != resource.end() && it->is_string() ? it->get<std::string>() : "unknown";
}

// The newest user message about `id`, or "" (none, or the server has no /messages).
std::string LatestUserMessage(Context& ctx, const std::string& id) {
  auto r = ctx.api.Get("/messages", {{"resource_uuid", id}});
  if (!r.ok() || !r->is_object()) return "";
  auto it = r->find("messages");
  if (it == r->end() || !it->is_array()) return "";
  std::string best_time, best;
  for (const auto& m : *it) {
    if (!m.is_object()) continue;
    std::string created = m.value("created_at", std::string());
    std::string text = m.contains("user_message") && m["user_message"].is_string()
                           ? m["user_message"].get<std::string>()
                           : "";
    if (text.empty()) continue;
    // ISO 8601 strings of one format compare in time order.
    if (best.empty() || created >= best_time) {
      best_time = created;
      best = text;
    }
  }
  return best;
}

class Progress {
 public:
  Progress(const Output& out, const WaitSpec& spec) : out_(out), spec_(spec) {}
  ~Progress() {
    if (drawn_) out_.err << "\n";
  }
  void Show(const std::string& status, double elapsed) {
    if (out_.err_is_tty) {
      std::string line = spec_.kind + " " + spec_.id + ": " + status + "  " +
                         std::to_string(static_cast<long>(elapsed)) + "s";
      // Pad over the remains of a longer previous line.
      std::string pad(last_len_ > line.size() ? last_len_ - line.size() : 0, ' ');
      out_.err << "\r" << line << pad << std::flush;
      last_len_ = line.size();
      drawn_ = true;
    } else if (status != last_status_) {
      out_.err << spec_.kind << " " << spec_.id << ": " << status << "\n" << std::flush;
    }
    last_status_ = status;
  }

 private:
  const Output& out_;
  const WaitSpec& spec_;
  std::string last_status_;
  size_t last_len_ = 0;
  bool drawn_ = false;
};

}  // namespace

Clock& SystemClock() {
  static SteadyClock clock;
  return clock;
}

Verdict StatusVerdict(const nlohmann::json& resource, const std::vector<std::string>& seen) {
  std::string status = StatusOf(resource);
  // Snapshots and backups share the volume's available and its error prefix.
  if (status == volume_status::kAvailable || status == volume_status::kInUse) {
    return Verdict::kDone;
  }
  if (volume_status::IsError(status)) return Verdict::kFailed;
  return Verdict::kPending;
}

Result<nlohmann::json> WaitFor(Context& ctx, const WaitSpec& spec) {
  const double start = ctx.clock.Now();
  std::vector<std::string> seen;
  std::string status = "unknown";
  Progress progress(ctx.output, spec);
  std::function<Verdict(const nlohmann::json&, const std::vector<std::string>&)> judge =
      spec.judge ? spec.judge : StatusVerdict;
  while (true) {
    auto r = ctx.api.Get(spec.path);
    if (!r.ok()) {
      if (spec.until_gone && r.status().code() == StatusCode::kNotFound) {
        progress.Show("deleted", ctx.clock.Now() - start);  // not a status: the row is gone
        return nlohmann::json();
      }
      return r.status();
    }
    nlohmann::json resource =
        r->is_object() && r->contains(spec.key) ? (*r)[spec.key] : nlohmann::json::object();
    status = StatusOf(resource);
    if (seen.empty() || seen.back() != status) seen.push_back(status);
    progress.Show(status, ctx.clock.Now() - start);
    Verdict verdict = spec.until_gone
                          ? (volume_status::IsError(status) ? Verdict::kFailed : Verdict::kPending)
                          : judge(resource, seen);
    if (verdict == Verdict::kDone) return resource;
    if (verdict == Verdict::kFailed) {
      std::string message = spec.kind + " " + spec.id + " is in status '" + status + "'";
      std::string why = LatestUserMessage(ctx, spec.id);
      if (!why.empty()) message += ": " + why;
      return FailedPrecondition(message);
    }
    if (ctx.clock.Now() - start >= ctx.wait_timeout_s) {
      return FailedPrecondition(
          "timed out after " + std::to_string(static_cast<long>(ctx.wait_timeout_s)) +
          " s waiting for " + spec.kind + " " + spec.id + " (status '" + status + "')");
    }
    ctx.clock.Sleep(spec.poll_interval_s);
  }
}

WaitSpec WaitOn(const std::string& kind, const std::string& id, const std::string& path) {
  WaitSpec spec;
  spec.kind = kind;
  spec.id = id;
  spec.path = path;
  spec.key = kind;
  return spec;
}

Status DeleteEach(Context& ctx, const std::vector<std::string>& args, const std::string& noun,
                  const std::function<Result<std::string>(const std::string& arg)>& request,
                  const std::function<WaitSpec(const std::string& id)>& wait_spec) {
  std::vector<std::string> deleted;
  Status st = ForEachArg(ctx.output, args, "Delete", noun, [&](const std::string& arg) -> Status {
    ASSIGN_OR_RETURN(std::string id, request(arg));
    deleted.push_back(id);
    if (!ctx.output.json) {
      ctx.output.Text("Request to delete " + noun + " " + arg + " has been accepted.\n");
    }
    return Status::Ok();
  });
  if (wait_spec) {
    for (const auto& id : deleted) {
      WaitSpec spec = wait_spec(id);
      spec.until_gone = true;
      RETURN_IF_ERROR(WaitFor(ctx, spec).status());
    }
  }
  return st;
}

}  // namespace scoria::cli
