#include "nfs/options.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>

namespace scoria::nfs {
namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

Result<int> ParseInt(const std::string& key, const std::string& v, int lo, int hi) {
  int out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || out < lo || out > hi) {
    return InvalidArgument("mount option " + key + ": expected an integer in " +
                           std::to_string(lo) + ".." + std::to_string(hi) + ", got \"" + v + "\"");
  }
  return out;
}

// Options of mount(8)/nfs(5) that only steer the kernel's client or page cache: a user-space
// client has nothing to do with them. Cinder's examples use several of these.
const std::set<std::string>& KernelOnly() {
  static const std::set<std::string> k = {
      "rw",        "hard",       "soft",         "intr",      "nointr",      "retrans",
      "noatime",   "nodiratime", "relatime",     "actimeo",   "acregmin",    "acregmax",
      "acdirmin",  "acdirmax",   "ac",           "noac",      "lookupcache", "_netdev",
      "defaults",  "nolock",     "lock",         "rsize",     "wsize",       "bg",
      "fg",        "retry",      "noexec",       "nosuid",    "nodev",       "cto",
      "nocto",     "sharecache", "nosharecache", "resvport",  "noresvport",  "local_lock",
      "fsc",       "nofsc",      "mountproto",   "mountvers", "addr",        "clientaddr",
      "mounthost", "namlen",     "timeo_retrans"};
  return k;
}

}  // namespace

std::string Share::Spec() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + path;
  return host + ":" + path;
}

Result<Share> ParseShare(const std::string& raw) {
  const std::string spec = Trim(raw);
  const auto bad = [&] {
    return InvalidArgument("NFS share \"" + spec + "\": expected host:/export");
  };
  Share s;
  size_t colon;
  if (!spec.empty() && spec.front() == '[') {
    const size_t close = spec.find(']');
    if (close == std::string::npos || close + 1 >= spec.size() || spec[close + 1] != ':') {
      return bad();
    }
    s.host = spec.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = spec.find(':');
    if (colon == std::string::npos) return bad();
    s.host = spec.substr(0, colon);
  }
  s.path = spec.substr(colon + 1);
  if (s.host.empty() || s.path.empty() || s.path.front() != '/' ||
      s.path.find_first_of(" \t?&") != std::string::npos ||
      s.host.find_first_of(" \t/?&") != std::string::npos) {
    return bad();
  }
  while (s.path.size() > 1 && s.path.back() == '/') s.path.pop_back();
  return s;
}

Result<Share> ParseShareLine(const std::string& raw) {
  std::string line = raw;
  if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
  line = Trim(line);
  if (line.empty()) return Share{};
  const size_t sp = line.find_first_of(" \t");
  ASSIGN_OR_RETURN(Share s, ParseShare(line.substr(0, sp)));
  if (sp != std::string::npos) {
    std::string opts = Trim(line.substr(sp));
    if (opts.rfind("-o", 0) == 0) opts = Trim(opts.substr(2));
    if (opts.find_first_of(" \t") != std::string::npos) {
      return InvalidArgument("NFS share " + s.Spec() +
                             ": expected \"-o opt1,opt2\" after it, got \"" + opts + "\"");
    }
    RETURN_IF_ERROR(ParseMountOptions(opts).status());
    s.options = opts;
  }
  return s;
}

Result<std::vector<Share>> ParseSharesFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("nfs_shares_config " + path + " cannot be read");
  std::vector<Share> out;
  std::set<std::string> seen;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto s = ParseShareLine(line);
    if (!s.ok()) {
      return InvalidArgument(path + ":" + std::to_string(n) + ": " + s.status().message());
    }
    if (s->host.empty()) continue;
    if (!seen.insert(s->Spec()).second) {
      return InvalidArgument(path + ":" + std::to_string(n) + ": share " + s->Spec() +
                             " is listed twice");
    }
    out.push_back(std::move(*s));
  }
  if (out.empty()) return InvalidArgument("nfs_shares_config " + path + " lists no share");
  return out;
}

Result<MountOptions> ParseMountOptions(const std::string& text, MountOptions o) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = Trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    const std::string val = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (key == "nfsvers" || key == "vers") {
      if (val != "3") {
        return InvalidArgument("mount option " + item +
                               ": only NFS version 3 is supported (libnfs's NFSv4 is not "
                               "usable for writes)");
      }
    } else if (key == "port") {
      ASSIGN_OR_RETURN(o.nfs_port, ParseInt(key, val, 0, 65535));
    } else if (key == "mountport") {
      ASSIGN_OR_RETURN(o.mount_port, ParseInt(key, val, 0, 65535));
    } else if (key == "timeo") {
      // nfs(5): tenths of a second. libnfs takes whole seconds, at least one.
      ASSIGN_OR_RETURN(int deci, ParseInt(key, val, 1, 36000));
      o.timeout_ms = std::max(1, (deci + 9) / 10) * 1000;
    } else if (key == "uid") {
      ASSIGN_OR_RETURN(o.uid, ParseInt(key, val, 0, 0x7fffffff));
    } else if (key == "gid") {
      ASSIGN_OR_RETURN(o.gid, ParseInt(key, val, 0, 0x7fffffff));
    } else if (key == "proto") {
      if (val != "tcp") {
        return InvalidArgument("mount option " + item + ": only proto=tcp is supported");
      }
    } else if (key == "sec") {
      if (val != "sys") {
        return InvalidArgument("mount option " + item + ": only sec=sys (AUTH_SYS) is supported");
      }
    } else if (KernelOnly().count(key)) {
      o.ignored.push_back(item);
    } else {
      return InvalidArgument("mount option \"" + item +
                             "\" is not known (supported: nfsvers=3, port, mountport, timeo, "
                             "uid, gid, proto=tcp, sec=sys; kernel-only options are ignored)");
    }
  }
  return o;
}

}  // namespace scoria::nfs
