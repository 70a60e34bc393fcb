// The daemon's configuration: one INI file in cinder.conf spelling, parsed and validated once at
// start into plain structs. Every option is declared in one table in config_options.cc with its
// type, default and one-line meaning; docs/configuration.md is checked against that table by a unit
// test. An unknown key, a bad value or a missing required key is an error naming the file,
// section, key and what was expected, e.g.
//   scoria.conf: [lvm1] max_over_subscription_ratio: expected a number >= 1 or "auto", got "x"
// Values may refer to other [DEFAULT] options as $name or ${name} (e.g. $state_path/volumes);
// $$ is a literal $. The syntax is oslo.config's (see common/ini.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace scoria {

// One section named in enabled_backends.
struct BackendConfig {
  std::string section;              // the section name; the service host is host@section
  std::string volume_driver;        // canonical: "file", "nfs" (Cinder's NfsDriver), "rbd"
  std::string volume_backend_name;  // reported capability; default: the section name
  std::string availability_zone;    // backend_availability_zone; default storage_availability_zone
  int reserved_percentage = 0;      // 0..100
  // max_over_subscription_ratio: a number >= 1, or "auto" (auto_over_subscription = true and
  // the ratio keeps its default until the volume service computes one).
  double max_over_subscription_ratio = 20.0;
  bool auto_over_subscription = false;
  std::string filter_function;    // DriverFilter expression, may be empty
  std::string goodness_function;  // GoodnessWeigher expression, may be empty
  std::string file_volume_dir;    // file driver: directory of volume files (required for file)
  // nfs driver (volume_driver = nfs): Cinder's NfsDriver keys, read through libnfs.
  struct NfsOptions {
    std::string shares_config;     // nfs_shares_config: file of "host:/export [-o opts]" lines
    bool sparsed_volumes = true;   // nfs_sparsed_volumes: false writes zeroes at create/extend
    std::string mount_options;     // nfs_mount_options, applied by libnfs where they mean something
    std::string mount_point_base;  // nfs_mount_point_base: accepted, unused (no kernel mount)
  } nfs;

  // rbd driver (volume_driver = rbd): Cinder's RBDDriver options, same names and meanings.
  struct RbdOptions {
    std::string pool = "rbd";                   // rbd_pool
    std::string ceph_conf;                      // rbd_ceph_conf; empty: librados's search path
    std::string user;                           // rbd_user; empty: client.admin
    std::string secret_uuid;                    // rbd_secret_uuid: only passed to connection_info
    bool flatten_volume_from_snapshot = false;  // rbd_flatten_volume_from_snapshot
    int max_clone_depth = 5;                    // rbd_max_clone_depth; 0: every clone is flattened
    int store_chunk_size_mb = 4;                // rbd_store_chunk_size: RADOS object size, MiB
    int connect_timeout = -1;                   // rados_connect_timeout, seconds; < 0: librados's
    bool report_discard_supported = false;      // report_discard_supported (connection_info)
  } rbd;
};

struct Config {
  std::string path;  // the file it came from, for messages

  // [DEFAULT]
  std::string state_path = "/var/lib/scoria";
  std::string host;                           // default: the machine's hostname
  std::vector<std::string> enabled_services;  // default: api, scheduler, volume, backup
  std::vector<std::string> enabled_backends;  // required when "volume" is enabled
  std::string default_volume_type = "__DEFAULT__";
  std::string storage_availability_zone = "nova";
  std::string osapi_volume_listen = "0.0.0.0";
  int osapi_volume_listen_port = 8776;
  int osapi_volume_workers = 0;  // HTTP threads; 0 = number of cores
  int osapi_max_limit = 1000;
  std::string auth_strategy = "noauth";  // "noauth" or "keystone"
  bool noauth_allow_remote = false;      // noauth on a non-loopback osapi_volume_listen
  std::string target_ip_address = "127.0.0.1";
  int target_port = 3260;
  std::string target_prefix = "iqn.2010-10.org.openstack:";
  int iscsi_poll_max_us = 50;  // adaptive polling of the target's reactors; 0 = off
  std::vector<std::string> scheduler_default_filters = {"AvailabilityZoneFilter", "CapacityFilter",
                                                        "CapabilitiesFilter"};
  std::vector<std::string> scheduler_default_weighers = {"CapacityWeigher"};
  double capacity_weight_multiplier = 1.0;
  double allocated_capacity_weight_multiplier = -1.0;
  double volume_number_multiplier = -1.0;
  double goodness_weight_multiplier = 1.0;
  int scheduler_max_attempts = 3;
  int report_interval = 10;    // seconds between service heartbeats / stats reports
  int service_down_time = 60;  // seconds without heartbeat before a service is "down"
  std::string backup_driver = "posix";
  std::string backup_posix_path;     // default $state_path/backup
  std::string backup_share;          // backup_driver = nfs: "host:/export"
  std::string backup_mount_options;  // backup_driver = nfs: as nfs_mount_options
  // backup_driver = s3 (Cinder's S3BackupDriver names; backup/s3_store.h).
  std::string backup_s3_endpoint_url;
  std::string backup_s3_store_access_key;
  std::string backup_s3_store_secret_key;  // a secret: never logged
  std::string backup_s3_store_bucket = "volumebackups";
  int64_t backup_s3_object_size = 52428800;  // multipart threshold and part size
  int backup_s3_max_pool_connections = 10;
  int backup_s3_retry_max_attempts = 4;
  int backup_s3_timeout = 60;  // seconds without progress
  bool backup_s3_verify_ssl = true;
  std::string backup_s3_ca_cert_file;
  // Recognised so that a Cinder configuration with SSE-C is refused clearly, never ignored.
  std::string backup_s3_sse_customer_key;
  std::string backup_s3_sse_customer_algorithm;
  // backup_driver = swift (Cinder's SwiftBackupDriver names; backup/swift_store.h).
  std::string backup_swift_url;  // overrides the storage URL the auth answer gives
  std::string backup_swift_auth_url;
  std::string backup_swift_user;
  std::string backup_swift_key;  // a secret: never logged
  std::string backup_swift_container = "volumebackups";
  int backup_swift_retry_attempts = 3;
  int backup_swift_retry_backoff = 2;  // seconds before the first retry
  bool backup_swift_auth_insecure = false;
  std::string backup_swift_ca_cert_file;
  // backup_driver = ceph (Cinder's CephBackupDriver names; backup/ceph_store.h).
  std::string backup_ceph_conf = "/etc/ceph/ceph.conf";
  std::string backup_ceph_user = "cinder";
  std::string backup_ceph_pool = "backups";
  int64_t backup_ceph_chunk_size = 134217728;  // largest object one write carries
  int backup_ceph_op_timeout = 120;            // seconds: connect, monitor and OSD requests
  int64_t backup_chunk_size = 4194304;         // chunk size of a new repository (RepositoryOptions)
  bool restore_discard_excess_bytes = true;    // RestoreJobOptions::zero_beyond_backup
  std::string log_level = "info";
  std::string log_file;  // empty = stderr
  // Quotas (defaults for every project; -1 = unlimited).
  int64_t quota_volumes = 10;
  int64_t quota_snapshots = 10;
  int64_t quota_gigabytes = 1000;
  int64_t quota_backups = 10;
  int64_t quota_backup_gigabytes = 1000;
  int64_t per_volume_size_limit = -1;

  // [database]
  std::string database_connection;   // sqlite:///PATH (default sqlite:///$state_path/scoria.sqlite)
                                     // or postgresql://USER:PASSWORD@HOST:PORT/DB
  std::string database_sqlite_path;  // the absolute file path inside a sqlite URL; empty otherwise

  // [keystone_authtoken] (keystonemiddleware's names; read when auth_strategy = keystone)
  struct KeystoneAuthtoken {
    std::string www_authenticate_uri;  // sent in WWW-Authenticate; default: auth_url
    std::string auth_url;              // where tokens are validated
    std::string username;              // the service user
    std::string password;              // a secret: never logged
    std::string project_name = "service";
    std::string user_domain_name = "Default";
    std::string project_domain_name = "Default";
    int token_cache_time = 300;  // seconds a validated token is trusted; -1 = no cache
    std::vector<std::string> service_token_roles = {"service"};
    bool service_token_roles_required = true;
    int http_connect_timeout = 5;   // seconds
    int http_request_timeout = 10;  // seconds for a whole exchange (Scoria's own option)
  } keystone;

  // [oslo_policy]
  std::string policy_file;  // absolute; empty = Cinder's defaults only
  bool enforce_new_defaults = true;

  std::vector<BackendConfig> backends;  // in enabled_backends order

  bool ServiceEnabled(const std::string& name) const;
};

// Parses and validates the INI text. `path` is used in messages only. On failure the Status
// carries one line naming path, section and key; its code is InvalidArgument, or
// NotImplemented for a value Cinder accepts that Scoria does not support yet (auth_strategy =
// keystone). Passwords in a database URL are shown as ***.
// Pure function (it calls gethostname() for the host default); any thread.
Result<Config> ParseConfig(const std::string& text, const std::string& path);
// "postgresql://user:secret@host/db" -> "postgresql://user:***@host/db": a URL fit for a log
// line or an error message. Pure.
std::string RedactUrl(const std::string& url);
// Reads the file and calls ParseConfig. An unreadable file is "<path>: cannot read: <strerror>"
// (NotFound when it does not exist, InvalidArgument otherwise).
Result<Config> LoadConfig(const std::string& path);

// One documented option, for docs and `scoriad --help-config`.
struct OptionDoc {
  std::string section;  // "DEFAULT", "database", "keystone_authtoken", "oslo_policy" or "backend"
  std::string name;
  // "string", "path" (absolute), "int", "float", "bool", "list", "float-or-auto", "enum"
  std::string type;
  std::string default_value;         // as written in a file (may contain $references), or a phrase
  std::string help;                  // meaning and trade-off, one paragraph
  std::vector<std::string> choices;  // enum: accepted spellings; list: allowed items; else empty
  bool used = true;  // false: accepted for cinder.conf compatibility, not acted on yet
};
const std::vector<OptionDoc>& DocumentedOptions();
// The options as docs/configuration.md's tables: a "## [section]" heading, then one
// "| `name` | type | `default` | meaning |" row per option (what `scoriad --help-config` prints).
std::string OptionTableMarkdown();

}  // namespace scoria
