#include "common/config.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/ini.h"

namespace scoria {
namespace {

constexpr char kDefault[] = "DEFAULT";
constexpr char kDatabase[] = "database";
constexpr char kBackend[] = "backend";  // the table's name for "every backend section"

enum class OptType { kString, kPath, kInt, kFloat, kBool, kList, kFloatOrAuto, kEnum };

const char* TypeName(OptType t) {
  switch (t) {
    case OptType::kString:
      return "string";
    case OptType::kPath:
      return "path";
    case OptType::kInt:
      return "int";
    case OptType::kFloat:
      return "float";
    case OptType::kBool:
      return "bool";
    case OptType::kList:
      return "list";
    case OptType::kFloatOrAuto:
      return "float-or-auto";
    case OptType::kEnum:
      return "enum";
  }
  return "?";
}

struct FloatOrAuto {
  bool is_auto = false;
  double value = 0;
};
using Value =
    std::variant<std::string, int64_t, double, bool, std::vector<std::string>, FloatOrAuto>;

template <typename T>
T As(const Value& v) {
  if constexpr (std::is_same_v<T, int>) {
    return static_cast<int>(std::get<int64_t>(v));  // int options have ranges inside int
  } else {
    return std::get<T>(v);
  }
}

// Why a value was rejected: the message becomes `expected <expected>, got "<value>"`, prefixed
// with `<not_yet> is not supported yet; ` when Cinder accepts the value and Scoria will later.
struct Problem {
  std::string expected;
  std::string not_yet;
};

// An extra check on a string (or on each list item): the "expected" text, or nullopt if fine.
using Check = std::function<std::optional<std::string>(const std::string&)>;

// One row of the option table. Built with the chainable setters below so each row reads as
// name, type, default, help, then its constraints and where the value goes.
struct OptionSpec {
  std::string section;  // kDefault, kDatabase or kBackend
  std::string name;
  OptType type = OptType::kString;
  std::string default_value;  // raw text, interpolated exactly like a value from the file
  std::string help;

  std::string default_doc;  // shown instead of default_value when the default is computed
  std::function<std::string()> dynamic_default;
  bool required = false;
  bool used = true;
  bool non_empty = false;
  bool unique_items = false;
  bool redact = false;  // a URL that may carry a password
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  std::optional<double> fmin;
  std::vector<std::pair<std::string, std::string>> choices;  // spelling -> canonical value
  std::vector<std::string> not_yet;                          // enum values for later
  Check check;
  std::function<void(const Value&, Config&)> apply;
  std::function<void(const Value&, BackendConfig&)> apply_backend;

  OptionSpec&& Range(int64_t lo, int64_t hi) && {
    min = lo;
    max = hi;
    return std::move(*this);
  }
  OptionSpec&& AtLeast(int64_t lo) && {
    min = lo;
    return std::move(*this);
  }
  OptionSpec&& AtLeastF(double lo) && {
    fmin = lo;
    return std::move(*this);
  }
  OptionSpec&& Required() && {
    required = true;
    return std::move(*this);
  }
  OptionSpec&& NonEmpty() && {
    non_empty = true;
    return std::move(*this);
  }
  OptionSpec&& Unique() && {
    unique_items = true;
    return std::move(*this);
  }
  OptionSpec&& Redact() && {
    redact = true;
    return std::move(*this);
  }
  OptionSpec&& NotUsedYet() && {
    used = false;
    return std::move(*this);
  }
  OptionSpec&& Verify(Check c) && {
    check = std::move(c);
    return std::move(*this);
  }
  OptionSpec&& DefaultDoc(std::string d, std::function<std::string()> f = nullptr) && {
    default_doc = std::move(d);
    dynamic_default = std::move(f);
    return std::move(*this);
  }
  OptionSpec&& Choices(std::vector<std::pair<std::string, std::string>> c) && {
    choices = std::move(c);
    return std::move(*this);
  }
  OptionSpec&& Items(std::vector<std::string> items) && {
    for (auto& i : items) choices.emplace_back(i, i);
    return std::move(*this);
  }
  OptionSpec&& NotYet(std::vector<std::string> v) && {
    not_yet = std::move(v);
    return std::move(*this);
  }
  template <typename T>
  OptionSpec&& Into(T Config::*m) && {
    apply = [m](const Value& v, Config& c) { c.*m = As<T>(v); };
    return std::move(*this);
  }
  template <typename T>
  OptionSpec&& Into(T BackendConfig::*m) && {
    apply_backend = [m](const Value& v, BackendConfig& b) { b.*m = As<T>(v); };
    return std::move(*this);
  }
  OptionSpec&& IntoBackend(std::function<void(const Value&, BackendConfig&)> f) && {
    apply_backend = std::move(f);
    return std::move(*this);
  }
};

OptionSpec Opt(const char* section, const char* name, OptType type, std::string default_value,
               std::string help) {
  OptionSpec o;
  o.section = section;
  o.name = name;
  o.type = type;
  o.default_value = std::move(default_value);
  o.help = std::move(help);
  return o;
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

std::optional<std::string> CheckHost(const std::string& v) {
  if (v.empty() || v.find_first_of("@# \t\n") != std::string::npos) {
    return "a host name without '@', '#' or spaces (Cinder writes host@backend#pool)";
  }
  return std::nullopt;
}

std::optional<std::string> CheckIpAddress(const std::string& v) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, v.c_str(), buf) == 1 || inet_pton(AF_INET6, v.c_str(), buf) == 1) {
    return std::nullopt;
  }
  return "an IPv4 or IPv6 address";
}

std::optional<std::string> CheckBackendName(const std::string& v) {
  bool ok = !v.empty() && v != kDefault && v != kDatabase &&
            std::all_of(v.begin(), v.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '_' || c == '-' || c == '.';
            });
  if (ok) return std::nullopt;
  return "section names of letters, digits, '_', '-' and '.' (not DEFAULT or database)";
}

constexpr char kSqlitePrefix[] = "sqlite:///";
constexpr char kSqliteExpected[] = "sqlite:///ABSOLUTE/PATH";

// The option table: the single source for parsing, validation, defaults and the docs.
// Help texts say what the option means and, where there is one, the trade-off.
const std::vector<OptionSpec>& Table() {
  using T = OptType;
  static const std::vector<OptionSpec> kTable = [] {
    std::vector<OptionSpec> t;
    // [DEFAULT]: the service.
    t.push_back(Opt(kDefault, "state_path", T::kPath, "/var/lib/scoria",
                    "Top-level directory for the service's state; other paths default to "
                    "places under it via $state_path.")
                    .Into(&Config::state_path));
    t.push_back(Opt(kDefault, "host", T::kString, "",
                    "Name of this node in the services table; volumes record host@backend, so "
                    "changing it later strands existing volumes on the old name.")
                    .DefaultDoc("the machine's hostname", Hostname)
                    .Verify(CheckHost)
                    .Into(&Config::host));
    t.push_back(Opt(kDefault, "enabled_services", T::kList, "api, scheduler, volume, backup",
                    "Services this process runs. An all-in-one node runs all four; split them "
                    "across nodes to scale the API or keep storage nodes API-free.")
                    .Items({"api", "scheduler", "volume", "backup"})
                    .Unique()
                    .NonEmpty()
                    .Into(&Config::enabled_services));
    t.push_back(Opt(kDefault, "enabled_backends", T::kList, "",
                    "Names of the backend sections this node serves, in order. Required when "
                    "the volume service is enabled; each needs a [name] section.")
                    .Unique()
                    .Verify(CheckBackendName)
                    .Into(&Config::enabled_backends));
    t.push_back(Opt(kDefault, "default_volume_type", T::kString, "__DEFAULT__",
                    "Volume type used when a create request names none.")
                    .NonEmpty()
                    .Into(&Config::default_volume_type));
    t.push_back(Opt(kDefault, "storage_availability_zone", T::kString, "nova",
                    "Availability zone of this node's services, and of its backends unless "
                    "they set backend_availability_zone.")
                    .NonEmpty()
                    .Into(&Config::storage_availability_zone));
    t.push_back(Opt(kDefault, "osapi_volume_listen", T::kString, "0.0.0.0",
                    "IP address the volume API listens on. 0.0.0.0 is every IPv4 interface; "
                    "use 127.0.0.1 to keep the API local.")
                    .Verify(CheckIpAddress)
                    .Into(&Config::osapi_volume_listen));
    t.push_back(
        Opt(kDefault, "osapi_volume_listen_port", T::kInt, "8776", "TCP port of the volume API.")
            .Range(1, 65535)
            .Into(&Config::osapi_volume_listen_port));
    t.push_back(Opt(kDefault, "osapi_volume_workers", T::kInt, "0",
                    "HTTP worker threads of the API; 0 means one per CPU core.")
                    .Range(0, 1024)
                    .Into(&Config::osapi_volume_workers));
    t.push_back(Opt(kDefault, "osapi_max_limit", T::kInt, "1000",
                    "Most items a list request returns in one page. Larger pages mean fewer "
                    "requests but longer responses and more memory per request.")
                    .Range(1, 1000000)
                    .Into(&Config::osapi_max_limit));
    t.push_back(Opt(kDefault, "auth_strategy", T::kEnum, "noauth",
                    "How API requests are authenticated. noauth trusts the project id in the "
                    "URL and the X-Auth-Token user: only for trusted networks. keystone is "
                    "recognised but not supported yet.")
                    .Items({"noauth"})
                    .NotYet({"keystone"})
                    .Into(&Config::auth_strategy));
    t.push_back(Opt(kDefault, "target_ip_address", T::kString, "127.0.0.1",
                    "Address of the iSCSI target that attach returns to clients; must be "
                    "reachable from the compute nodes.")
                    .NonEmpty()
                    .Into(&Config::target_ip_address));
    t.push_back(Opt(kDefault, "target_port", T::kInt, "3260", "TCP port of the iSCSI target.")
                    .Range(1, 65535)
                    .Into(&Config::target_port));
    t.push_back(Opt(kDefault, "target_prefix", T::kString, "iqn.2010-10.org.openstack:",
                    "Prefix of target IQNs; the volume name is appended.")
                    .NonEmpty()
                    .Into(&Config::target_prefix));
    t.push_back(Opt(kDefault, "target_helper", T::kString, "tgtadm",
                    "Cinder's external target daemon. Scoria has its own iSCSI target; the "
                    "key is accepted only so an existing cinder.conf loads.")
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "target_protocol", T::kEnum, "iscsi",
                    "Transport for attachments. Only iscsi for now; Cinder's iser, nvmet_rdma "
                    "and nvmet_tcp are recognised but not supported yet.")
                    .Items({"iscsi"})
                    .NotYet({"iser", "nvmet_rdma", "nvmet_tcp"})
                    .NotUsedYet());
    // [DEFAULT]: the scheduler.
    t.push_back(Opt(kDefault, "scheduler_default_filters", T::kList,
                    "AvailabilityZoneFilter, CapacityFilter, CapabilitiesFilter",
                    "Filters a backend must pass to receive a new volume, applied in order.")
                    .Into(&Config::scheduler_default_filters));
    t.push_back(Opt(kDefault, "scheduler_default_weighers", T::kList, "CapacityWeigher",
                    "Weighers that rank the backends that passed the filters.")
                    .Into(&Config::scheduler_default_weighers));
    t.push_back(Opt(kDefault, "capacity_weight_multiplier", T::kFloat, "1.0",
                    "Weight of free capacity: positive spreads volumes over backends, "
                    "negative stacks them onto the fullest one.")
                    .Into(&Config::capacity_weight_multiplier));
    t.push_back(Opt(kDefault, "allocated_capacity_weight_multiplier", T::kFloat, "-1.0",
                    "Weight of allocated (provisioned) capacity: negative prefers the least "
                    "allocated backend (spread), positive the most (stack).")
                    .Into(&Config::allocated_capacity_weight_multiplier));
    t.push_back(Opt(kDefault, "volume_number_multiplier", T::kFloat, "-1.0",
                    "Weight of the number of volumes on a backend (VolumeNumberWeigher): "
                    "negative prefers backends with fewer volumes.")
                    .Into(&Config::volume_number_multiplier));
    t.push_back(Opt(kDefault, "goodness_weight_multiplier", T::kFloat, "1.0",
                    "Weight of the backend's goodness_function score (GoodnessWeigher).")
                    .Into(&Config::goodness_weight_multiplier));
    t.push_back(Opt(kDefault, "scheduler_max_attempts", T::kInt, "3",
                    "How many backends a create tries before the volume goes to error. More "
                    "attempts ride out a failing backend but delay the error.")
                    .AtLeast(1)
                    .Into(&Config::scheduler_max_attempts));
    t.push_back(Opt(kDefault, "report_interval", T::kInt, "10",
                    "Seconds between a service's heartbeats and capacity reports. Shorter "
                    "means fresher scheduling data and more database writes.")
                    .AtLeast(1)
                    .Into(&Config::report_interval));
    t.push_back(Opt(kDefault, "service_down_time", T::kInt, "60",
                    "Seconds without a heartbeat after which a service counts as down. Must "
                    "exceed report_interval; shorter detects failures sooner but flaps under "
                    "load.")
                    .AtLeast(1)
                    .Into(&Config::service_down_time));
    // [DEFAULT]: backup.
    t.push_back(Opt(kDefault, "backup_driver", T::kEnum, "posix",
                    "Where backups are stored. posix writes files under backup_posix_path; "
                    "Cinder's NFSBackupDriver is read as posix, so mount the share at "
                    "backup_posix_path yourself.")
                    .Choices({{"posix", "posix"},
                              {"cinder.backup.drivers.posix.PosixBackupDriver", "posix"},
                              {"cinder.backup.drivers.nfs.NFSBackupDriver", "posix"}})
                    .Into(&Config::backup_driver));
    t.push_back(Opt(kDefault, "backup_posix_path", T::kPath, "$state_path/backup",
                    "Directory of the posix backup store. Put it on other disks than the "
                    "volumes, or a backup does not survive the loss of its volume.")
                    .Into(&Config::backup_posix_path));
    t.push_back(Opt(kDefault, "backup_compression_algorithm", T::kEnum, "zlib",
                    "Compression of backup chunks.")
                    .Items({"none", "off", "no", "zlib", "gzip", "bz2", "bzip2", "zstd"})
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "backup_file_size", T::kInt, "1999994880",
                    "Size in bytes of one backup object.")
                    .AtLeast(1)
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "backup_sha_block_size_bytes", T::kInt, "32768",
                    "Block size in bytes for incremental-backup change detection.")
                    .AtLeast(1)
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "backup_enable_progress_timer", T::kBool, "true",
                    "Send backup progress notifications.")
                    .NotUsedYet());
    // [DEFAULT]: logging.
    t.push_back(Opt(kDefault, "log_level", T::kEnum, "info",
                    "Least severe log level written. debug and trace are verbose and may log "
                    "request bodies.")
                    .Items({"trace", "debug", "info", "warning", "error"})
                    .Into(&Config::log_level));
    t.push_back(Opt(kDefault, "log_file", T::kPath, "",
                    "Log file (absolute path); empty logs to stderr, which suits journald.")
                    .Into(&Config::log_file));
    // [DEFAULT]: quotas.
    auto quota = [&](const char* name, const char* def, const char* what, int64_t Config::*m) {
      t.push_back(Opt(kDefault, name, T::kInt, def,
                      std::string("Default per-project limit on ") + what + "; -1 is unlimited.")
                      .AtLeast(-1)
                      .Into(m));
    };
    quota("quota_volumes", "10", "the number of volumes", &Config::quota_volumes);
    quota("quota_snapshots", "10", "the number of snapshots", &Config::quota_snapshots);
    quota("quota_gigabytes", "1000", "GiB of volumes and snapshots", &Config::quota_gigabytes);
    quota("quota_backups", "10", "the number of backups", &Config::quota_backups);
    quota("quota_backup_gigabytes", "1000", "GiB of backups", &Config::quota_backup_gigabytes);
    quota("per_volume_size_limit", "-1", "the size in GiB of one volume",
          &Config::per_volume_size_limit);

    // [database]
    t.push_back(Opt(kDatabase, "connection", T::kString, "sqlite:///$state_path/scoria.sqlite",
                    "Database URL. sqlite:/// followed by an absolute path (so four slashes "
                    "in all). postgresql:// is recognised but not supported yet.")
                    .Redact()
                    .Into(&Config::database_connection));

    // Backend sections.
    t.push_back(Opt(kBackend, "volume_driver", T::kEnum, "",
                    "The driver. file keeps each volume as a sparse file in file_volume_dir; "
                    "Cinder's NfsDriver is read as file, with the share mounted at "
                    "file_volume_dir by you.")
                    .Required()
                    .Choices({{"file", "file"}, {"cinder.volume.drivers.nfs.NfsDriver", "file"}})
                    .Into(&BackendConfig::volume_driver));
    t.push_back(Opt(kBackend, "volume_backend_name", T::kString, "",
                    "Name reported as the volume_backend_name capability, which volume types "
                    "match on. Backends may share a name so one volume type can land on any.")
                    .DefaultDoc("the section name")
                    .Into(&BackendConfig::volume_backend_name));
    t.push_back(Opt(kBackend, "backend_availability_zone", T::kString, "$storage_availability_zone",
                    "Availability zone of this backend.")
                    .NonEmpty()
                    .Into(&BackendConfig::availability_zone));
    t.push_back(Opt(kBackend, "reserved_percentage", T::kInt, "0",
                    "Percentage of capacity kept free: the scheduler treats it as used. "
                    "Headroom for growth of thin volumes versus usable space.")
                    .Range(0, 100)
                    .Into(&BackendConfig::reserved_percentage));
    t.push_back(Opt(kBackend, "max_over_subscription_ratio", T::kFloatOrAuto, "20.0",
                    "How far thin provisioning may promise more than the capacity: 1.0 never "
                    "over-commits; higher packs more volumes but risks running out of space "
                    "when they fill. auto computes it from provisioned and used capacity.")
                    .AtLeastF(1.0)
                    .IntoBackend([](const Value& v, BackendConfig& b) {
                      const auto& r = std::get<FloatOrAuto>(v);
                      b.auto_over_subscription = r.is_auto;
                      if (!r.is_auto) b.max_over_subscription_ratio = r.value;
                    }));
    t.push_back(Opt(kBackend, "filter_function", T::kString, "",
                    "DriverFilter expression that must be true for the backend to take a "
                    "volume, e.g. volume.size < 100; empty passes every volume.")
                    .Into(&BackendConfig::filter_function));
    t.push_back(Opt(kBackend, "goodness_function", T::kString, "",
                    "GoodnessWeigher expression scoring the backend 0..100 for a volume; empty "
                    "scores 0.")
                    .Into(&BackendConfig::goodness_function));
    t.push_back(Opt(kBackend, "file_volume_dir", T::kPath, "",
                    "file driver: directory holding the volume files. Required for file; no "
                    "two backends may share one.")
                    .Into(&BackendConfig::file_volume_dir));
    return t;
  }();
  return kTable;
}

const OptionSpec* FindOption(std::string_view section, std::string_view name) {
  for (const auto& o : Table()) {
    if (o.section == section && o.name == name) return &o;
  }
  return nullptr;
}

std::string Join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

std::vector<std::string> Spellings(const OptionSpec& o) {
  std::vector<std::string> out;
  for (const auto& [spelling, canonical] : o.choices) out.push_back(spelling);
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string FormatDouble(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, r.ptr);
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The closest of `names` to `word` if it is close enough to be a likely typo.
std::optional<std::string> Closest(std::string_view word, const std::vector<std::string>& names) {
  std::optional<std::string> best;
  size_t best_d = std::max<size_t>(2, word.size() / 4) + 1;
  for (const auto& n : names) {
    size_t d = EditDistance(word, n);
    if (d < best_d) {
      best_d = d;
      best = n;
    }
  }
  return best;
}

// "mysql://user:secret@host/db" -> "mysql://user:***@host/db".
std::string RedactUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t start = scheme + 3;
  size_t end = url.find('/', start);
  if (end == std::string::npos) end = url.size();
  size_t at = url.rfind('@', end);
  if (at == std::string::npos || at < start) return url;
  size_t colon = url.find(':', start);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

// Turns interpolated text into a typed value, or says what was expected.
std::variant<Value, Problem> Convert(const OptionSpec& o, const std::string& text) {
  if (text.find('\n') != std::string::npos) {
    return Problem{"a single-line value (an indented line continues the previous value)", ""};
  }
  auto checked = [&](const std::string& s) -> std::optional<Problem> {
    if (o.check) {
      if (auto expected = o.check(s)) return Problem{*expected, ""};
    }
    return std::nullopt;
  };
  switch (o.type) {
    case OptType::kString:
    case OptType::kPath: {
      if (text.empty()) {
        if (o.non_empty) return Problem{"a non-empty value", ""};
        return Value(std::string());
      }
      if (o.type == OptType::kPath && text.front() != '/') {
        return Problem{"an absolute path", ""};
      }
      if (auto p = checked(text)) return *p;
      return Value(text);
    }
    case OptType::kInt: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size() || v < o.min || v > o.max) {
        constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
        constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
        std::string e = "an integer";
        if (o.min != kMin && o.max != kMax) {
          e += " in " + std::to_string(o.min) + ".." + std::to_string(o.max);
        } else if (o.min != kMin) {
          e += " >= " + std::to_string(o.min);
        } else if (o.max != kMax) {
          e += " <= " + std::to_string(o.max);
        }
        return Problem{e, ""};
      }
      return Value(v);
    }
    case OptType::kFloat:
    case OptType::kFloatOrAuto: {
      if (o.type == OptType::kFloatOrAuto && text == "auto") return Value(FloatOrAuto{true, 0});
      double v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) ||
          (o.fmin && v < *o.fmin)) {
        std::string e = "a number";
        if (o.fmin) e += " >= " + FormatDouble(*o.fmin);
        if (o.type == OptType::kFloatOrAuto) e += " or \"auto\"";
        return Problem{e, ""};
      }
      if (o.type == OptType::kFloatOrAuto) return Value(FloatOrAuto{false, v});
      return Value(v);
    }
    case OptType::kBool: {
      std::string l = Lower(text);
      if (l == "true" || l == "yes" || l == "on" || l == "1") return Value(true);
      if (l == "false" || l == "no" || l == "off" || l == "0") return Value(false);
      return Problem{"true or false (or yes/no, on/off, 1/0)", ""};
    }
    case OptType::kEnum: {
      for (const auto& [spelling, canonical] : o.choices) {
        if (text == spelling) return Value(canonical);
      }
      std::string expected = "one of " + Join(Spellings(o));
      for (const auto& later : o.not_yet) {
        if (text == later) return Problem{expected, later};
      }
      return Problem{expected, ""};
    }
    case OptType::kList: {
      std::vector<std::string> items;
      size_t start = 0;
      while (start <= text.size()) {
        size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        std::string item = Trim(std::string_view(text).substr(start, comma - start));
        if (!item.empty()) items.push_back(std::move(item));
        start = comma + 1;
      }
      std::string of = o.choices.empty() ? "" : " of " + Join(Spellings(o));
      if (o.non_empty && items.empty()) return Problem{"a non-empty comma-separated list" + of, ""};
      std::set<std::string> seen;
      for (const auto& item : items) {
        if (!o.choices.empty()) {
          auto sp = Spellings(o);
          if (std::find(sp.begin(), sp.end(), item) == sp.end()) {
            return Problem{"a comma-separated list" + of, ""};
          }
        }
        if (auto p = checked(item)) return Problem{"a comma-separated list of " + p->expected, ""};
        if (o.unique_items && !seen.insert(item).second) {
          return Problem{"a comma-separated list without duplicates (" + item + " repeats)", ""};
        }
      }
      return Value(std::move(items));
    }
  }
  return Problem{"a value", ""};
}

// Expands $name, ${name} and $$ against [DEFAULT] options: the file's value if it has one,
// else the option's default. Each option is expanded once and remembered; `stack_` holds the
// chain being expanded so a cycle is reported instead of recursing forever.
class Interpolator {
 public:
  Interpolator(const std::string& path, const IniSection* defaults)
      : path_(path), defaults_(defaults) {}

  // The raw (unexpanded) text of [DEFAULT] option `name`; the option must exist.
  std::string Raw(const OptionSpec& o) const {
    if (defaults_) {
      if (const IniEntry* e = defaults_->Find(o.name)) return e->value;
    }
    if (o.dynamic_default) {
      std::string v = o.dynamic_default();
      std::string escaped;
      for (char c : v) escaped += (c == '$') ? "$$" : std::string(1, c);
      return escaped;
    }
    return o.default_value;
  }

  // Expands `text`, the value of `key` in `section`. Errors name section and key.
  Result<std::string> Expand(const std::string& text, const std::string& section,
                             const std::string& key) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '$') {
        out += text[i];
        continue;
      }
      auto bad = [&](const std::string& expected, const std::string& note) {
        return InvalidArgument(path_ + ": [" + section + "] " + key + ": expected " + expected +
                               ", got \"" + text + "\"" + note);
      };
      auto is_name_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      };
      if (i + 1 < text.size() && text[i + 1] == '$') {
        out += '$';
        ++i;
        continue;
      }
      std::string name;
      if (i + 1 < text.size() && text[i + 1] == '{') {
        size_t close = text.find('}', i + 2);
        if (close == std::string::npos) {
          return bad("a $name or ${name} reference (write $$ for a literal $)", "");
        }
        name = text.substr(i + 2, close - i - 2);
        i = close;
      } else {
        size_t j = i + 1;
        while (j < text.size() && is_name_char(text[j])) ++j;
        name = text.substr(i + 1, j - i - 1);
        i = j - 1;
      }
      if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char) ||
          std::isdigit(static_cast<unsigned char>(name[0]))) {
        return bad("a $name or ${name} reference (write $$ for a literal $)", "");
      }
      const OptionSpec* ref = FindOption(kDefault, name);
      if (ref == nullptr) {
        std::vector<std::string> names;
        for (const auto& o : Table()) {
          if (o.section == kDefault) names.push_back(o.name);
        }
        std::string note = " ($" + name + " is not a [DEFAULT] option";
        if (auto c = Closest(name, names)) note += "; did you mean $" + *c + "?";
        return bad("references to [DEFAULT] options", note + ")");
      }
      if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
        std::vector<std::string> chain(std::find(stack_.begin(), stack_.end(), name), stack_.end());
        chain.push_back(name);
        return bad("a value without circular references", " (" + Join(chain, " -> ") + ")");
      }
      ASSIGN_OR_RETURN(std::string value, Resolve(*ref));
      out += value;
    }
    return out;
  }

  // The expanded text of [DEFAULT] option `o`.
  Result<std::string> Resolve(const OptionSpec& o) {
    if (auto it = done_.find(o.name); it != done_.end()) return it->second;
    stack_.push_back(o.name);
    auto r = Expand(Raw(o), kDefault, o.name);
    stack_.pop_back();
    if (!r.ok()) return r.status();
    done_[o.name] = *r;
    return r;
  }

 private:
  const std::string& path_;
  const IniSection* defaults_;
  std::map<std::string, std::string> done_;
  std::vector<std::string> stack_;
};

// Parses one option of one section into `config` or `backend`.
class SectionReader {
 public:
  SectionReader(const std::string& path, Interpolator& interp) : path_(path), interp_(interp) {}

  // Returns the typed value of option `o` in section `section` (whose entries may be null).
  Result<Value> Read(const OptionSpec& o, const std::string& section, const IniSection* entries,
                     const std::string& default_override = "") {
    const IniEntry* e = entries ? entries->Find(o.name) : nullptr;
    std::string raw;
    Result<std::string> expanded = std::string();
    if (o.section == kDefault) {
      raw = interp_.Raw(o);
      expanded = interp_.Resolve(o);
    } else {
      if (e == nullptr && o.required) {
        return InvalidArgument(path_ + ": [" + section + "] missing required key " + o.name);
      }
      raw = e ? e->value : (default_override.empty() ? o.default_value : default_override);
      expanded = interp_.Expand(raw, section, o.name);
    }
    if (!expanded.ok()) return expanded.status();
    auto converted = Convert(o, *expanded);
    if (auto* v = std::get_if<Value>(&converted)) return std::move(*v);
    return Fail(o, section, raw, *expanded, std::get<Problem>(converted));
  }

  Status Fail(const OptionSpec& o, const std::string& section, const std::string& raw,
              const std::string& value, const Problem& p) {
    auto show = [&](const std::string& s) { return o.redact ? RedactUrl(s) : s; };
    std::string m = path_ + ": [" + section + "] " + o.name + ": ";
    if (!p.not_yet.empty()) m += p.not_yet + " is not supported yet; ";
    m += "expected " + p.expected + ", got \"" + show(value) + "\"";
    if (raw != value) m += " (from \"" + show(raw) + "\")";
    if (raw.find(" #") != std::string::npos || raw.find(" ;") != std::string::npos) {
      m += " (comments must be on their own line)";
    }
    return p.not_yet.empty() ? InvalidArgument(m) : NotImplemented(m);
  }

 private:
  const std::string& path_;
  Interpolator& interp_;
};

// Rejects keys of `section` that are not options of `kind`, naming the closest one.
Status CheckKeys(const std::string& path, const IniSection& section, const std::string& kind) {
  std::vector<std::string> names;
  for (const auto& o : Table()) {
    if (o.section == kind) names.push_back(o.name);
  }
  for (const auto& e : section.entries) {
    if (std::find(names.begin(), names.end(), e.key) != names.end()) continue;
    std::string m = path + ": [" + section.name + "] unknown key " + e.key;
    const OptionSpec* elsewhere = nullptr;
    for (const auto& o : Table()) {
      if (o.name == e.key) elsewhere = &o;
    }
    if (elsewhere != nullptr) {
      m += elsewhere->section == kBackend ? " (it belongs in a backend section)"
                                          : " (it belongs in [" + elsewhere->section + "])";
    } else if (auto c = Closest(e.key, names)) {
      m += " (did you mean " + *c + "?)";
    }
    return InvalidArgument(m);
  }
  return Status::Ok();
}

Result<BackendConfig> ReadBackend(const std::string& path, const IniSection& section,
                                  SectionReader& reader) {
  BackendConfig b;
  b.section = section.name;
  for (const auto& o : Table()) {
    if (o.section != kBackend) continue;
    std::string default_override;
    if (o.name == "volume_backend_name") default_override = section.name;
    ASSIGN_OR_RETURN(Value v, reader.Read(o, section.name, &section, default_override));
    o.apply_backend(v, b);
  }
  if (b.volume_driver == "file" && section.Find("file_volume_dir") == nullptr) {
    return InvalidArgument(path + ": [" + section.name + "] missing required key file_volume_dir");
  }
  return b;
}

}  // namespace

bool Config::ServiceEnabled(const std::string& name) const {
  return std::find(enabled_services.begin(), enabled_services.end(), name) !=
         enabled_services.end();
}

Result<Config> ParseConfig(const std::string& text, const std::string& path) {
  ASSIGN_OR_RETURN(IniFile ini, ParseIni(text, path));
  Config c;
  c.path = path;
  const IniSection* defaults = ini.Find(kDefault);
  if (defaults) RETURN_IF_ERROR(CheckKeys(path, *defaults, kDefault));

  Interpolator interp(path, defaults);
  SectionReader reader(path, interp);
  for (const auto& o : Table()) {
    if (o.section != kDefault) continue;
    ASSIGN_OR_RETURN(Value v, reader.Read(o, kDefault, defaults));
    if (o.apply) o.apply(v, c);
  }
  if (c.service_down_time <= c.report_interval) {
    return InvalidArgument(path + ": [DEFAULT] service_down_time: expected more than " +
                           "report_interval (" + std::to_string(c.report_interval) + "), got \"" +
                           std::to_string(c.service_down_time) + "\"");
  }
  if (c.ServiceEnabled("volume") && c.enabled_backends.empty()) {
    return InvalidArgument(path +
                           ": [DEFAULT] enabled_backends: expected at least one backend "
                           "section name when enabled_services includes volume, got \"" +
                           (defaults && defaults->Find("enabled_backends")
                                ? defaults->Find("enabled_backends")->value
                                : std::string()) +
                           "\"");
  }

  // Every section must be one we read; backend sections not enabled are checked for typos only.
  for (const auto& s : ini.sections) {
    if (s.name == kDefault) continue;
    if (s.name == kDatabase) {
      RETURN_IF_ERROR(CheckKeys(path, s, kDatabase));
      continue;
    }
    bool enabled = std::find(c.enabled_backends.begin(), c.enabled_backends.end(), s.name) !=
                   c.enabled_backends.end();
    if (enabled || s.Find("volume_driver") != nullptr) {
      RETURN_IF_ERROR(CheckKeys(path, s, kBackend));
      continue;
    }
    std::string m = path + ": [" + s.name + "] unknown section";
    if (auto close = Closest(s.name, c.enabled_backends)) {
      m += " (did you mean [" + *close + "]?)";
    } else {
      m += " (Scoria reads [DEFAULT], [database] and the backend sections named in "
           "enabled_backends; remove it)";
    }
    return InvalidArgument(m);
  }

  // [database]
  const OptionSpec& conn = *FindOption(kDatabase, "connection");
  const IniSection* db = ini.Find(kDatabase);
  ASSIGN_OR_RETURN(Value url_value, reader.Read(conn, kDatabase, db));
  std::string url = std::get<std::string>(url_value);
  std::string raw_url =
      db && db->Find("connection") ? db->Find("connection")->value : conn.default_value;
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgresql+", 0) == 0) {
    return reader.Fail(conn, kDatabase, raw_url, url, Problem{kSqliteExpected, "postgresql"});
  }
  std::string file = url.rfind(kSqlitePrefix, 0) == 0 ? url.substr(strlen(kSqlitePrefix)) : "";
  if (file.size() < 2 || file.front() != '/' || file.find('?') != std::string::npos) {
    return reader.Fail(conn, kDatabase, raw_url, url, Problem{kSqliteExpected, ""});
  }
  conn.apply(url_value, c);
  c.database_sqlite_path = file;

  // Backends, in enabled_backends order.
  for (const auto& name : c.enabled_backends) {
    const IniSection* s = ini.Find(name);
    if (s == nullptr) {
      return InvalidArgument(path + ": [" + name +
                             "] missing section (named in [DEFAULT] enabled_backends)");
    }
    ASSIGN_OR_RETURN(BackendConfig b, ReadBackend(path, *s, reader));
    for (const auto& other : c.backends) {
      if (!b.file_volume_dir.empty() && other.file_volume_dir == b.file_volume_dir) {
        return InvalidArgument(path + ": [" + name + "] file_volume_dir: expected a directory " +
                               "no other backend uses ([" + other.section + "] has it), got \"" +
                               b.file_volume_dir + "\"");
      }
    }
    c.backends.push_back(std::move(b));
  }
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    std::string m = path + ": cannot read: " + std::strerror(err);
    return err == ENOENT ? NotFound(m) : InvalidArgument(m);
  }
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
  int err = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (err != 0) return InvalidArgument(path + ": cannot read: " + std::strerror(err));
  return ParseConfig(text, path);
}

const std::vector<OptionDoc>& DocumentedOptions() {
  static const std::vector<OptionDoc> kDocs = [] {
    std::vector<OptionDoc> docs;
    for (const auto& o : Table()) {
      OptionDoc d;
      d.section = o.section;
      d.name = o.name;
      d.type = TypeName(o.type);
      d.default_value = o.default_doc.empty() ? o.default_value : o.default_doc;
      if (o.required) d.default_value = "(required)";
      d.help = o.help;
      d.choices = Spellings(o);
      d.used = o.used;
      docs.push_back(std::move(d));
    }
    return docs;
  }();
  return kDocs;
}

}  // namespace scoria
