#include "common/config_options.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

namespace scoria::config_internal {
namespace {

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

}  // namespace

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

// The option table: the single source for parsing, validation, defaults and the docs.
// Help texts say what the option means and, where there is one, the trade-off.
// The rbd driver's keys (Cinder's RBDDriver names, defaults and meanings), in one block.
static void AddRbdOptions(std::vector<OptionSpec>& t) {
  using T = OptType;
  using R = BackendConfig::RbdOptions;
  auto into = [](auto R::*m) {
    return [m](const Value& v, BackendConfig& b) {
      b.rbd.*m = As<std::remove_reference_t<decltype(b.rbd.*m)>>(v);
    };
  };
  t.push_back(Opt(kBackend, "rbd_pool", T::kString, "rbd",
                  "rbd driver: the RADOS pool holding the volumes' images (volume-<id>). "
                  "Cinder's default; deployments usually name it volumes.")
                  .NonEmpty()
                  .IntoBackend(into(&R::pool)));
  t.push_back(Opt(kBackend, "rbd_ceph_conf", T::kPath, "",
                  "rbd driver: the ceph.conf naming the monitors and the keyring; empty uses "
                  "librados's search ($CEPH_CONF, /etc/ceph/ceph.conf, ~/.ceph/config).")
                  .IntoBackend(into(&R::ceph_conf)));
  t.push_back(Opt(kBackend, "rbd_user", T::kString, "",
                  "rbd driver: the cephx user, without client. (e.g. cinder); empty connects "
                  "as client.admin, as Cinder does. Give it mon 'profile rbd' and osd "
                  "'profile rbd pool=<rbd_pool>'.")
                  .IntoBackend(into(&R::user)));
  t.push_back(Opt(kBackend, "rbd_secret_uuid", T::kString, "",
                  "rbd driver: the libvirt secret holding rbd_user's key on the hosts; only "
                  "passed on in rbd connection_info, never used by Scoria itself.")
                  .IntoBackend(into(&R::secret_uuid)));
  t.push_back(Opt(kBackend, "rbd_flatten_volume_from_snapshot", T::kBool, "false",
                  "rbd driver: copy a volume made from a snapshot in full (flatten) instead of "
                  "leaving it a copy-on-write clone of the snapshot: slower to create, but "
                  "no dependency on the snapshot's data.")
                  .IntoBackend(into(&R::flatten_volume_from_snapshot)));
  t.push_back(Opt(kBackend, "rbd_max_clone_depth", T::kInt, "5",
                  "rbd driver: how many clones of clones may chain before a new one is "
                  "flattened; long chains slow reads of unwritten data. 0 flattens every "
                  "clone (full copies).")
                  .Range(0, 1000)
                  .IntoBackend(into(&R::max_clone_depth)));
  t.push_back(Opt(kBackend, "rbd_store_chunk_size", T::kInt, "4",
                  "rbd driver: size in MiB of the RADOS objects new images are striped over "
                  "(rounded down to a power of two). Larger objects suit sequential I/O, "
                  "smaller ones thin allocation of scattered writes.")
                  .Range(1, 32)
                  .IntoBackend(into(&R::store_chunk_size_mb)));
  t.push_back(Opt(kBackend, "rados_connect_timeout", T::kInt, "-1",
                  "rbd driver: seconds to wait for the cluster when connecting and for each "
                  "monitor request; 0 or below: librados's 5 minutes to connect, 30 s per "
                  "monitor request (librados itself would wait for ever).")
                  .AtLeast(-1)
                  .IntoBackend(into(&R::connect_timeout)));
  t.push_back(Opt(kBackend, "report_discard_supported", T::kBool, "false",
                  "rbd driver: say in rbd connection_info that the volume takes discards, so "
                  "hypervisors pass guests' TRIM on (space returns to the pool).")
                  .IntoBackend(into(&R::report_discard_supported)));
}

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
                    "127.0.0.1 keeps the API local. Left unset with auth_strategy = noauth it "
                    "is 127.0.0.1 (see noauth_allow_remote).")
                    .DefaultDoc("0.0.0.0 (127.0.0.1 with noauth)")
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
                    "How API requests are authenticated. keystone validates X-Auth-Token with "
                    "Keystone ([keystone_authtoken]) and enforces the policy rules "
                    "([oslo_policy]). noauth trusts the user and project the caller names and "
                    "makes every caller an admin: one host only (see noauth_allow_remote).")
                    .Items({"noauth", "keystone"})
                    .Into(&Config::auth_strategy));
    t.push_back(Opt(kDefault, "noauth_allow_remote", T::kBool, "false",
                    "Lets auth_strategy = noauth listen on an address other than loopback. "
                    "noauth believes whatever user and project a caller names and makes every "
                    "caller an admin, so by default scoriad refuses to start with it on a "
                    "reachable address; set true only on a network where every host is trusted "
                    "(a lab, a test cluster in network namespaces).")
                    .Into(&Config::noauth_allow_remote));
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
    t.push_back(Opt(kDefault, "iscsi_poll_max_us", T::kInt, "50",
                    "Longest time, in microseconds, an iSCSI reactor thread polls for new "
                    "events before it sleeps. The window adapts: it grows while events "
                    "arrive soon after a wait begins and drops to 0 on an idle reactor. "
                    "Polling saves a sleep and wake-up (tens of microseconds on a VM) when "
                    "the next event comes soon, e.g. the initiator's next command at queue "
                    "depth 1, at the cost of up to this much CPU per wait; 0 never polls "
                    "(for cores shared with OSDs or other busy guests).")
                    .Range(0, 10000)
                    .Into(&Config::iscsi_poll_max_us));
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
                    "load. After a database outage the scheduler counts it from the outage's "
                    "end.")
                    .AtLeast(1)
                    .Into(&Config::service_down_time));
    // [DEFAULT]: backup.
    t.push_back(Opt(kDefault, "backup_driver", T::kEnum, "posix",
                    "Where backups are stored. posix writes files under backup_posix_path; "
                    "nfs writes them to backup_share through libnfs (no kernel mount); s3 to "
                    "the bucket backup_s3_store_bucket; swift to the container "
                    "backup_swift_container; ceph to RADOS objects in the pool "
                    "backup_ceph_pool.")
                    .Choices({{"posix", "posix"},
                              {"cinder.backup.drivers.posix.PosixBackupDriver", "posix"},
                              {"nfs", "nfs"},
                              {"cinder.backup.drivers.nfs.NFSBackupDriver", "nfs"},
                              {"s3", "s3"},
                              {"cinder.backup.drivers.s3.S3BackupDriver", "s3"},
                              {"swift", "swift"},
                              {"cinder.backup.drivers.swift.SwiftBackupDriver", "swift"},
                              {"ceph", "ceph"},
                              {"cinder.backup.drivers.ceph.CephBackupDriver", "ceph"}})
                    .Into(&Config::backup_driver));
    t.push_back(Opt(kDefault, "backup_posix_path", T::kPath, "$state_path/backup",
                    "Directory of the posix backup store. Put it on other disks than the "
                    "volumes, or a backup does not survive the loss of its volume.")
                    .Into(&Config::backup_posix_path));
    t.push_back(Opt(kDefault, "backup_share", T::kString, "",
                    "nfs backup store: the share as host:/export. Required when backup_driver "
                    "is nfs; the repository is the export's root directory.")
                    .Into(&Config::backup_share));
    t.push_back(Opt(kDefault, "backup_mount_options", T::kString, "",
                    "nfs backup store: mount options, as nfs_mount_options (nfsvers=3, port, "
                    "mountport, timeo, uid, gid applied; kernel-only options ignored).")
                    .Into(&Config::backup_mount_options));
    // [DEFAULT]: the s3 backup store (Cinder's S3BackupDriver names).
    t.push_back(Opt(kDefault, "backup_s3_endpoint_url", T::kString, "",
                    "s3 backup store: the S3 endpoint, http(s)://host:port (radosgw: its "
                    "rgw_frontends port). Requests are path-style and signed with AWS "
                    "Signature V4 (region us-east-1). Required when backup_driver is s3.")
                    .Into(&Config::backup_s3_endpoint_url));
    t.push_back(Opt(kDefault, "backup_s3_store_access_key", T::kString, "",
                    "s3 backup store: the access key. Required when backup_driver is s3.")
                    .Into(&Config::backup_s3_store_access_key));
    t.push_back(Opt(kDefault, "backup_s3_store_secret_key", T::kString, "",
                    "s3 backup store: the secret key; never logged nor shown in errors. "
                    "Required when backup_driver is s3.")
                    .Into(&Config::backup_s3_store_secret_key));
    t.push_back(Opt(kDefault, "backup_s3_store_bucket", T::kString, "volumebackups",
                    "s3 backup store: the bucket, created when missing. One bucket is one "
                    "repository: chunks are shared (deduplicated) between all its backups.")
                    .Into(&Config::backup_s3_store_bucket));
    t.push_back(Opt(kDefault, "backup_s3_object_size", T::kInt, "52428800",
                    "s3 backup store: objects larger than this many bytes are sent as "
                    "multipart uploads of parts this size (S3's minimum part is 5 MiB). "
                    "Chunks and manifests are usually smaller: one PUT each.")
                    .AtLeast(5242880)
                    .Into(&Config::backup_s3_object_size));
    t.push_back(Opt(kDefault, "backup_s3_max_pool_connections", T::kInt, "10",
                    "s3 backup store: idle connections kept open for reuse. More than the "
                    "backup jobs' parallel workers buys nothing.")
                    .AtLeast(1)
                    .Into(&Config::backup_s3_max_pool_connections));
    t.push_back(Opt(kDefault, "backup_s3_retry_max_attempts", T::kInt, "4",
                    "s3 backup store: tries of one request, the first included, when the "
                    "endpoint answers 5xx or cannot be reached; the waits double from 0.5 s "
                    "(at most 8 s). Then the operation fails as unavailable.")
                    .AtLeast(1)
                    .Into(&Config::backup_s3_retry_max_attempts));
    t.push_back(Opt(kDefault, "backup_s3_timeout", T::kInt, "60",
                    "s3 backup store: seconds a transfer may make no progress before it "
                    "fails (and is retried).")
                    .AtLeast(1)
                    .Into(&Config::backup_s3_timeout));
    t.push_back(Opt(kDefault, "backup_s3_verify_ssl", T::kBool, "true",
                    "s3 backup store: check the endpoint's TLS certificate (https). Turn off "
                    "only for a test gateway with a self-signed certificate.")
                    .Into(&Config::backup_s3_verify_ssl));
    t.push_back(Opt(kDefault, "backup_s3_ca_cert_file", T::kPath, "",
                    "s3 backup store: CA bundle for the endpoint's certificate; empty uses the "
                    "system's.")
                    .Into(&Config::backup_s3_ca_cert_file));
    t.push_back(Opt(kDefault, "backup_s3_sse_customer_key", T::kString, "",
                    "s3 backup store: Cinder's key for server-side encryption with customer "
                    "keys (SSE-C). Not supported yet: any value stops the start.")
                    .Into(&Config::backup_s3_sse_customer_key));
    t.push_back(Opt(kDefault, "backup_s3_sse_customer_algorithm", T::kString, "",
                    "s3 backup store: Cinder's SSE-C algorithm (AES256). Not supported yet: "
                    "any value stops the start.")
                    .Into(&Config::backup_s3_sse_customer_algorithm));
    // [DEFAULT]: the swift backup store (Cinder's SwiftBackupDriver names).
    t.push_back(Opt(kDefault, "backup_swift_auth_url", T::kString, "",
                    "swift backup store: the auth v1 URL (radosgw: http://host:port/auth/1.0). "
                    "Required when backup_driver is swift.")
                    .Into(&Config::backup_swift_auth_url));
    t.push_back(Opt(kDefault, "backup_swift_url", T::kString, "",
                    "swift backup store: the storage URL (http://host:port/swift/v1 on "
                    "radosgw); empty uses the X-Storage-Url the auth answer gives.")
                    .Into(&Config::backup_swift_url));
    t.push_back(Opt(kDefault, "backup_swift_auth", T::kEnum, "single_user",
                    "swift backup store: how to authenticate. single_user: as "
                    "backup_swift_user with backup_swift_key, the only way for now. Cinder's "
                    "per_user (the requesting user's Keystone token) is recognised but not "
                    "supported yet.")
                    .Items({"single_user"})
                    .NotYet({"per_user"})
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "backup_swift_auth_version", T::kEnum, "1",
                    "swift backup store: the auth protocol; 1 is TempAuth-style "
                    "X-Auth-User/X-Auth-Key, which radosgw answers. Keystone's 2 and 3 are "
                    "recognised but not supported yet.")
                    .Items({"1"})
                    .NotYet({"2", "3"})
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "backup_swift_user", T::kString, "",
                    "swift backup store: the user, as account:user (radosgw: a subuser). "
                    "Required when backup_driver is swift.")
                    .Into(&Config::backup_swift_user));
    t.push_back(Opt(kDefault, "backup_swift_key", T::kString, "",
                    "swift backup store: the user's key; never logged nor shown in errors. "
                    "Required when backup_driver is swift.")
                    .Into(&Config::backup_swift_key));
    t.push_back(Opt(kDefault, "backup_swift_container", T::kString, "volumebackups",
                    "swift backup store: the container, created when missing. One container "
                    "is one repository: chunks are shared (deduplicated) between its backups.")
                    .Into(&Config::backup_swift_container));
    t.push_back(Opt(kDefault, "backup_swift_retry_attempts", T::kInt, "3",
                    "swift backup store: retries of one request after the first try when "
                    "the gateway answers 5xx or cannot be reached. Then the operation fails "
                    "as unavailable.")
                    .AtLeast(0)
                    .Into(&Config::backup_swift_retry_attempts));
    t.push_back(Opt(kDefault, "backup_swift_retry_backoff", T::kInt, "2",
                    "swift backup store: seconds before the first retry; each later wait "
                    "doubles (at most 16 times this).")
                    .AtLeast(0)
                    .Into(&Config::backup_swift_retry_backoff));
    t.push_back(Opt(kDefault, "backup_swift_auth_insecure", T::kBool, "false",
                    "swift backup store: skip the check of the gateway's TLS certificate "
                    "(https). Only for a test gateway with a self-signed certificate.")
                    .Into(&Config::backup_swift_auth_insecure));
    t.push_back(Opt(kDefault, "backup_swift_ca_cert_file", T::kPath, "",
                    "swift backup store: CA bundle for the gateway's certificate; empty uses "
                    "the system's.")
                    .Into(&Config::backup_swift_ca_cert_file));
    // [DEFAULT]: the ceph backup store (Cinder's CephBackupDriver names; backup/ceph_store.h).
    t.push_back(Opt(kDefault, "backup_ceph_conf", T::kPath, "/etc/ceph/ceph.conf",
                    "ceph backup store: the ceph.conf naming the monitors and the keyring.")
                    .Into(&Config::backup_ceph_conf));
    t.push_back(Opt(kDefault, "backup_ceph_user", T::kString, "cinder",
                    "ceph backup store: the cephx user, without client.; it needs mon 'allow r' "
                    "and osd 'allow rw pool=<backup_ceph_pool>' (or the rbd profiles).")
                    .NonEmpty()
                    .Into(&Config::backup_ceph_user));
    t.push_back(Opt(kDefault, "backup_ceph_pool", T::kString, "backups",
                    "ceph backup store: the RADOS pool holding the repository's objects (made "
                    "by the operator; not created here). One pool is one repository: chunks "
                    "are shared (deduplicated) between all its backups.")
                    .NonEmpty()
                    .Into(&Config::backup_ceph_pool));
    t.push_back(Opt(kDefault, "backup_ceph_chunk_size", T::kInt, "134217728",
                    "ceph backup store: the largest object, in bytes, one write may carry; "
                    "every object is written whole in one atomic write, and a larger one is "
                    "refused. At least 65 MiB, so the largest chunk (64 MiB and its header) "
                    "fits; the OSDs' osd_max_write_size (90 MiB by default) bounds it too.")
                    .AtLeast(68157440)
                    .Into(&Config::backup_ceph_chunk_size));
    t.push_back(Opt(kDefault, "backup_ceph_op_timeout", T::kInt, "120",
                    "ceph backup store: seconds to wait for the monitors when connecting and "
                    "for each monitor or OSD request; then the operation fails as unavailable "
                    "(retryable) instead of hanging the backup job.")
                    .AtLeast(1)
                    .Into(&Config::backup_ceph_op_timeout));
    t.push_back(Opt(kDefault, "backup_ceph_stripe_unit", T::kInt, "0",
                    "ceph backup store: RBD striping of Cinder's backup images. Scoria writes "
                    "plain RADOS objects, which are not striped.")
                    .AtLeast(0)
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "backup_ceph_stripe_count", T::kInt, "0",
                    "ceph backup store: RBD striping of Cinder's backup images. Scoria writes "
                    "plain RADOS objects, which are not striped.")
                    .AtLeast(0)
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "backup_ceph_image_journals", T::kBool, "false",
                    "ceph backup store: journaling of Cinder's backup images (RBD mirroring). "
                    "Scoria keeps no images in the backup pool.")
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "backup_ceph_max_snapshots", T::kInt, "0",
                    "ceph backup store: snapshots Cinder keeps on an RBD source for its "
                    "export-diff incrementals. Scoria's incrementals compare with the parent "
                    "backup's manifest and need no kept snapshot.")
                    .AtLeast(0)
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "restore_discard_excess_bytes", T::kBool, "true",
                    "A restore into a volume larger than the backup zeroes (with unmap) the "
                    "bytes beyond the backup's size, so the volume reads as the backup plus "
                    "zeroes; false leaves them as the volume held them. Applies to every "
                    "backup_driver (Cinder's applies it to its ceph driver only).")
                    .Into(&Config::restore_discard_excess_bytes));
    t.push_back(Opt(kDefault, "backup_compression_algorithm", T::kEnum, "zlib",
                    "Compression of backup chunks. Accepted for Cinder's configuration files; "
                    "Scoria always compresses chunks with zstd (a chunk that does not shrink is "
                    "stored raw).")
                    .Items({"none", "off", "no", "zlib", "gzip", "bz2", "bzip2", "zstd"})
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "backup_file_size", T::kInt, "1999994880",
                    "Size in bytes of one backup object.")
                    .AtLeast(1)
                    .NotUsedYet());
    t.push_back(Opt(kDefault, "backup_chunk_size", T::kInt, "4194304",
                    "Bytes per chunk of a new backup repository: the unit of change tracking, "
                    "deduplication and storage. An incremental stores every chunk a change "
                    "touches whole, so scattered small writes favour small chunks (64 KiB: 64x "
                    "the manifest entries of 4 MiB) and sequential change large ones. Read "
                    "only when the store holds no repository yet; an existing repository keeps "
                    "its own. 64 KiB to 64 MiB, a multiple of 512.")
                    .Range(65536, 67108864)
                    .Verify([](const std::string& v) -> std::optional<std::string> {
                      if (std::stoll(v) % 512 != 0) return "a multiple of 512";
                      return std::nullopt;
                    })
                    .Into(&Config::backup_chunk_size));
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
                    .Items({"trace", "debug", "info", "warning", "error"})  // not a status: levels
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
                    "in all): the embedded, one-host database. postgresql://USER:PASSWORD@"
                    "HOST:PORT/DATABASE: the cluster database every scoriad of a cluster "
                    "shares (see docs/deployment.md). The password is never logged.")
                    .Redact()
                    .Into(&Config::database_connection));

    // [keystone_authtoken]: keystonemiddleware's names, read when auth_strategy = keystone.
    auto ks = [&]<typename U>(const char* name, T type, std::string def, std::string help,
                              U Config::KeystoneAuthtoken::*m) {
      OptionSpec o = Opt(kKeystoneAuthtoken, name, type, std::move(def), std::move(help));
      o.apply = [m](const Value& v, Config& c) { c.keystone.*m = As<U>(v); };
      return o;
    };
    using KA = Config::KeystoneAuthtoken;
    t.push_back(ks("www_authenticate_uri", T::kString, "",
                   "The Keystone URL clients are told to authenticate against, in the "
                   "WWW-Authenticate header of a 401; empty means auth_url.",
                   &KA::www_authenticate_uri));
    t.push_back(ks("auth_url", T::kString, "",
                   "Keystone's URL (e.g. http://controller:5000/v3 or without /v3) where the "
                   "service user logs in and callers' tokens are validated. Required with "
                   "auth_strategy = keystone.",
                   &KA::auth_url));
    t.push_back(Opt(kKeystoneAuthtoken, "auth_type", T::kEnum, "password",
                    "How the service user logs in to Keystone. Only password (username, "
                    "password, project_name and the two domain names) is supported.")
                    .Items({"password"}));
    t.push_back(ks("username", T::kString, "",
                   "The service user that validates tokens (Keystone grants validation to a "
                   "user with the service or admin role).",
                   &KA::username));
    t.push_back(ks("password", T::kString, "", "The service user's password. Never logged.",
                   &KA::password));
    t.push_back(ks("project_name", T::kString, "service",
                   "The project the service user's token is scoped to.", &KA::project_name));
    t.push_back(ks("user_domain_name", T::kString, "Default", "The domain of the service user.",
                   &KA::user_domain_name));
    t.push_back(ks("project_domain_name", T::kString, "Default", "The domain of project_name.",
                   &KA::project_domain_name));
    t.push_back(ks("token_cache_time", T::kInt, "300",
                   "Seconds a validated token is trusted without asking Keystone again (never "
                   "past its expiry). Longer saves Keystone round trips; a revoked token keeps "
                   "working until its entry ages out. -1 validates every request.",
                   &KA::token_cache_time)
                    .Range(-1, 86400));
    t.push_back(ks("service_token_roles", T::kList, "service",
                   "Roles, any one of which makes an X-Service-Token a service's token.",
                   &KA::service_token_roles));
    t.push_back(ks("service_token_roles_required", T::kBool, "true",
                   "true: a request whose X-Service-Token has none of service_token_roles is "
                   "refused (401). false: it is served, the token recorded as its service "
                   "identity, with a warning (keystonemiddleware's default before 2026).",
                   &KA::service_token_roles_required));
    t.push_back(ks("http_connect_timeout", T::kInt, "5",
                   "Seconds to connect to Keystone before the request is answered 503.",
                   &KA::http_connect_timeout)
                    .Range(1, 300));
    t.push_back(ks("http_request_timeout", T::kInt, "10",
                   "Seconds for a whole exchange with Keystone: how long a request waits on an "
                   "unresponsive Keystone before its 503. Scoria's own option (keystonemiddleware "
                   "retries three times instead).",
                   &KA::http_request_timeout)
                    .Range(1, 300));
    t.push_back(Opt(kKeystoneAuthtoken, "memcached_servers", T::kList, "",
                    "Ignored: validated tokens are cached inside scoriad (token_cache_time), "
                    "so no memcached is needed. Accepted so an existing cinder.conf loads.")
                    .NotUsedYet());
    t.push_back(Opt(kKeystoneAuthtoken, "region_name", T::kString, "",
                    "Ignored: Keystone is reached at auth_url, not looked up in the catalog. "
                    "Accepted so an existing cinder.conf loads.")
                    .NotUsedYet());

    // [oslo_policy]
    t.push_back(Opt(kOsloPolicy, "policy_file", T::kPath, "",
                    "A YAML (or JSON) file of rules in oslo.policy's syntax that replace "
                    "Cinder's defaults by name (docs/auth.md). Empty: the defaults alone. A "
                    "malformed rule, a reference to an undefined rule or a rule name Cinder "
                    "does not have stops scoriad at start.")
                    .Into(&Config::policy_file));
    t.push_back(Opt(kOsloPolicy, "enforce_new_defaults", T::kBool, "true",
                    "Use Cinder's current rule defaults alone (readers read, members write, "
                    "admins administer). false also accepts each rule's deprecated default, "
                    "as Cinder 21 does out of the box (any role in the owning project).")
                    .Into(&Config::enforce_new_defaults));

    // Backend sections.
    t.push_back(
        Opt(kBackend, "volume_driver", T::kEnum, "",
            "The driver. file keeps each volume as a sparse file in file_volume_dir; "
            "nfs (Cinder's NfsDriver) keeps them as files on the NFS shares of "
            "nfs_shares_config, reached through libnfs; rbd keeps each volume as a Ceph RBD "
            "image in rbd_pool (Cinder's RBDDriver is read as rbd).")
            .Required()
            .Choices({{"file", "file"},
                      {"nfs", "nfs"},
                      {"cinder.volume.drivers.nfs.NfsDriver", "nfs"},
                      {"rbd", "rbd"},
                      {"cinder.volume.drivers.rbd.RBDDriver", "rbd"}})
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
    // Backend sections: the nfs driver (Cinder's NfsDriver keys).
    t.push_back(Opt(kBackend, "nfs_shares_config", T::kPath, "",
                    "nfs driver: file listing the shares, one host:/export a line, optionally "
                    "followed by -o and mount options for that share. Required for nfs; a new "
                    "volume goes to the share with the most free space.")
                    .IntoBackend([](const Value& v, BackendConfig& b) {
                      b.nfs.shares_config = std::get<std::string>(v);
                    }));
    t.push_back(Opt(kBackend, "nfs_sparsed_volumes", T::kBool, "true",
                    "nfs driver: create volumes as sparse files (space taken on first write). "
                    "false writes zeroes over the whole volume at create and extend: slow, but "
                    "the space is really reserved on the share.")
                    .IntoBackend([](const Value& v, BackendConfig& b) {
                      b.nfs.sparsed_volumes = std::get<bool>(v);
                    }));
    t.push_back(Opt(kBackend, "nfs_mount_options", T::kString, "",
                    "nfs driver: comma-separated mount options for every share. nfsvers=3, "
                    "port, mountport, timeo (tenths of a second per RPC), uid, gid are applied "
                    "by libnfs; kernel-only options (hard, soft, rsize, ...) are ignored with a "
                    "log line; others are an error.")
                    .IntoBackend([](const Value& v, BackendConfig& b) {
                      b.nfs.mount_options = std::get<std::string>(v);
                    }));
    t.push_back(Opt(kBackend, "nfs_mount_point_base", T::kString, "$state_path/mnt",
                    "nfs driver: where Cinder mounts the shares. Accepted for cinder.conf; "
                    "Scoria mounts nothing (libnfs talks to the server from user space).")
                    .IntoBackend([](const Value& v, BackendConfig& b) {
                      b.nfs.mount_point_base = std::get<std::string>(v);
                    })
                    .NotUsedYet());
    AddRbdOptions(t);
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

std::string Join(const std::vector<std::string>& items, const char* sep) {
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
      if (auto p = checked(text)) return *p;
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

}  // namespace scoria::config_internal
