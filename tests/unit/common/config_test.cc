#include "common/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace scoria {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The smallest valid file: the volume service (on by default) needs one backend.
constexpr char kMinimal[] =
    "[DEFAULT]\n"
    "enabled_backends = b1\n"
    "[b1]\n"
    "volume_driver = file\n"
    "file_volume_dir = /srv/volumes\n";

Config MustParse(const std::string& text) {
  auto r = ParseConfig(text, "s.conf");
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : Config{};
}

std::string ErrorOf(const std::string& text, StatusCode code = StatusCode::kInvalidArgument) {
  auto r = ParseConfig(text, "s.conf");
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  return r.status().message();
}

// kMinimal with `lines` added to [DEFAULT].
std::string WithDefault(const std::string& lines) {
  return std::string("[DEFAULT]\n") + lines + "\n" + (kMinimal + 10);
}

// kMinimal with `lines` added to [b1].
std::string WithBackend(const std::string& lines) { return std::string(kMinimal) + lines + "\n"; }

TEST(ConfigTest, Defaults) {
  Config c = MustParse(kMinimal);
  EXPECT_EQ(c.path, "s.conf");
  EXPECT_EQ(c.state_path, "/var/lib/scoria");
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(c.host, host);
  EXPECT_THAT(c.enabled_services, ElementsAre("api", "scheduler", "volume", "backup"));
  EXPECT_THAT(c.enabled_backends, ElementsAre("b1"));
  EXPECT_EQ(c.backup_posix_path, "/var/lib/scoria/backup");
  EXPECT_EQ(c.database_connection, "sqlite:////var/lib/scoria/scoria.sqlite");
  EXPECT_EQ(c.database_sqlite_path, "/var/lib/scoria/scoria.sqlite");
  EXPECT_EQ(c.auth_strategy, "noauth");
  EXPECT_EQ(c.log_file, "");
  EXPECT_EQ(c.per_volume_size_limit, -1);

  ASSERT_EQ(c.backends.size(), 1u);
  const BackendConfig& b = c.backends[0];
  EXPECT_EQ(b.section, "b1");
  EXPECT_EQ(b.volume_driver, "file");
  EXPECT_EQ(b.volume_backend_name, "b1");
  EXPECT_EQ(b.availability_zone, "nova");
  EXPECT_EQ(b.reserved_percentage, 0);
  EXPECT_EQ(b.max_over_subscription_ratio, 20.0);
  EXPECT_FALSE(b.auto_over_subscription);
  EXPECT_EQ(b.filter_function, "");
  EXPECT_EQ(b.goodness_function, "");
  EXPECT_EQ(b.file_volume_dir, "/srv/volumes");
}

// The option table's defaults and the struct initialisers in config.h must agree, so code
// that builds a Config by hand (tests, tools) sees the same defaults as a parsed file.
TEST(ConfigTest, TableDefaultsMatchHeaderInitialisers) {
  Config c = MustParse(kMinimal);
  Config h;
  EXPECT_EQ(c.state_path, h.state_path);
  EXPECT_EQ(c.default_volume_type, h.default_volume_type);
  EXPECT_EQ(c.storage_availability_zone, h.storage_availability_zone);
  EXPECT_EQ(h.osapi_volume_listen, "0.0.0.0");  // Cinder's; noauth's is loopback (NoauthListen)
  EXPECT_EQ(c.osapi_volume_listen, "127.0.0.1");
  EXPECT_EQ(c.osapi_volume_listen_port, h.osapi_volume_listen_port);
  EXPECT_EQ(c.osapi_volume_workers, h.osapi_volume_workers);
  EXPECT_EQ(c.osapi_max_limit, h.osapi_max_limit);
  EXPECT_EQ(c.auth_strategy, h.auth_strategy);
  EXPECT_EQ(c.target_ip_address, h.target_ip_address);
  EXPECT_EQ(c.target_port, h.target_port);
  EXPECT_EQ(c.target_prefix, h.target_prefix);
  EXPECT_EQ(c.scheduler_default_filters, h.scheduler_default_filters);
  EXPECT_EQ(c.scheduler_default_weighers, h.scheduler_default_weighers);
  EXPECT_EQ(c.capacity_weight_multiplier, h.capacity_weight_multiplier);
  EXPECT_EQ(c.allocated_capacity_weight_multiplier, h.allocated_capacity_weight_multiplier);
  EXPECT_EQ(c.volume_number_multiplier, h.volume_number_multiplier);
  EXPECT_EQ(c.goodness_weight_multiplier, h.goodness_weight_multiplier);
  EXPECT_EQ(c.scheduler_max_attempts, h.scheduler_max_attempts);
  EXPECT_EQ(c.report_interval, h.report_interval);
  EXPECT_EQ(c.service_down_time, h.service_down_time);
  EXPECT_EQ(c.backup_driver, h.backup_driver);
  EXPECT_EQ(c.log_level, h.log_level);
  EXPECT_EQ(c.log_file, h.log_file);
  EXPECT_EQ(c.quota_volumes, h.quota_volumes);
  EXPECT_EQ(c.quota_snapshots, h.quota_snapshots);
  EXPECT_EQ(c.quota_gigabytes, h.quota_gigabytes);
  EXPECT_EQ(c.quota_backups, h.quota_backups);
  EXPECT_EQ(c.quota_backup_gigabytes, h.quota_backup_gigabytes);
  EXPECT_EQ(c.per_volume_size_limit, h.per_volume_size_limit);
  BackendConfig hb;
  EXPECT_EQ(c.backends[0].reserved_percentage, hb.reserved_percentage);
  EXPECT_EQ(c.backends[0].max_over_subscription_ratio, hb.max_over_subscription_ratio);
  EXPECT_EQ(c.backends[0].auto_over_subscription, hb.auto_over_subscription);
}

TEST(ConfigTest, EveryTypeParses) {
  Config c =
      MustParse(WithDefault("state_path = /data\n"
                            "host = node-1\n"
                            "enabled_services = api , volume,, \n"
                            "osapi_volume_listen = ::1\n"
                            "osapi_volume_listen_port = 65535\n"
                            "capacity_weight_multiplier = -2.5\n"
                            "backup_enable_progress_timer = OFF\n"
                            "log_level = debug\n"
                            "log_file = /var/log/scoria.log\n"
                            "quota_volumes = -1\n"
                            "quota_gigabytes = 9000000000\n"
                            "scheduler_default_filters = CapacityFilter\n"));
  EXPECT_EQ(c.state_path, "/data");
  EXPECT_EQ(c.host, "node-1");
  EXPECT_THAT(c.enabled_services, ElementsAre("api", "volume"));
  EXPECT_TRUE(c.ServiceEnabled("api"));
  EXPECT_TRUE(c.ServiceEnabled("volume"));
  EXPECT_FALSE(c.ServiceEnabled("backup"));
  EXPECT_FALSE(c.ServiceEnabled("nonsense"));
  EXPECT_EQ(c.osapi_volume_listen, "::1");
  EXPECT_EQ(c.osapi_volume_listen_port, 65535);
  EXPECT_EQ(c.capacity_weight_multiplier, -2.5);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_file, "/var/log/scoria.log");
  EXPECT_EQ(c.quota_volumes, -1);
  EXPECT_EQ(c.quota_gigabytes, 9000000000);
  EXPECT_THAT(c.scheduler_default_filters, ElementsAre("CapacityFilter"));
}

TEST(ConfigTest, BoolSpellings) {
  for (const char* v : {"true", "True", "YES", "on", "1", "false", "No", "off", "0"}) {
    MustParse(WithDefault(std::string("backup_enable_progress_timer = ") + v));
  }
  EXPECT_EQ(ErrorOf(WithDefault("backup_enable_progress_timer = maybe")),
            "s.conf: [DEFAULT] backup_enable_progress_timer: expected true or false (or yes/no, "
            "on/off, 1/0), got \"maybe\"");
}

TEST(ConfigTest, IntErrors) {
  EXPECT_EQ(ErrorOf(WithDefault("osapi_volume_listen_port = 70000")),
            "s.conf: [DEFAULT] osapi_volume_listen_port: expected an integer in 1..65535, got "
            "\"70000\"");
  EXPECT_EQ(ErrorOf(WithDefault("scheduler_max_attempts = 0")),
            "s.conf: [DEFAULT] scheduler_max_attempts: expected an integer >= 1, got \"0\"");
  EXPECT_EQ(ErrorOf(WithDefault("quota_volumes = 1.5")),
            "s.conf: [DEFAULT] quota_volumes: expected an integer >= -1, got \"1.5\"");
  EXPECT_EQ(ErrorOf(WithDefault("quota_volumes = -2")),
            "s.conf: [DEFAULT] quota_volumes: expected an integer >= -1, got \"-2\"");
  EXPECT_EQ(ErrorOf(WithDefault("report_interval =")),
            "s.conf: [DEFAULT] report_interval: expected an integer >= 1, got \"\"");
  EXPECT_EQ(ErrorOf(WithDefault("quota_volumes = 99999999999999999999")),
            "s.conf: [DEFAULT] quota_volumes: expected an integer >= -1, got "
            "\"99999999999999999999\"");
  EXPECT_EQ(ErrorOf(WithBackend("reserved_percentage = 101")),
            "s.conf: [b1] reserved_percentage: expected an integer in 0..100, got \"101\"");
  // An integer option with a check of its own, past its range.
  EXPECT_EQ(ErrorOf(WithDefault("backup_chunk_size = 65537")),
            "s.conf: [DEFAULT] backup_chunk_size: expected a multiple of 512, got "
            "\"65537\"");
  EXPECT_EQ(ErrorOf(WithDefault("backup_chunk_size = 32768")),
            "s.conf: [DEFAULT] backup_chunk_size: expected an integer in 65536..67108864, got "
            "\"32768\"");
  EXPECT_EQ(MustParse(WithDefault("backup_chunk_size = 65536")).backup_chunk_size, 65536);
}

TEST(ConfigTest, FloatErrors) {
  EXPECT_EQ(ErrorOf(WithDefault("volume_number_multiplier = lots")),
            "s.conf: [DEFAULT] volume_number_multiplier: expected a number, got \"lots\"");
  EXPECT_EQ(ErrorOf(WithDefault("volume_number_multiplier = nan")),
            "s.conf: [DEFAULT] volume_number_multiplier: expected a number, got \"nan\"");
}

TEST(ConfigTest, FloatOrAuto) {
  Config c = MustParse(WithBackend("max_over_subscription_ratio = 1.5"));
  EXPECT_EQ(c.backends[0].max_over_subscription_ratio, 1.5);
  EXPECT_FALSE(c.backends[0].auto_over_subscription);

  c = MustParse(WithBackend("max_over_subscription_ratio = auto"));
  EXPECT_TRUE(c.backends[0].auto_over_subscription);
  EXPECT_EQ(c.backends[0].max_over_subscription_ratio, 20.0);

  EXPECT_EQ(ErrorOf(WithBackend("max_over_subscription_ratio = 0.5")),
            "s.conf: [b1] max_over_subscription_ratio: expected a number >= 1 or \"auto\", got "
            "\"0.5\"");
  EXPECT_EQ(ErrorOf(WithBackend("max_over_subscription_ratio = x")),
            "s.conf: [b1] max_over_subscription_ratio: expected a number >= 1 or \"auto\", got "
            "\"x\"");
}

TEST(ConfigTest, EnumErrors) {
  EXPECT_EQ(ErrorOf(WithDefault("log_level = chatty")),
            "s.conf: [DEFAULT] log_level: expected one of trace, debug, info, warning, error, "
            "got \"chatty\"");
  EXPECT_EQ(ErrorOf(WithDefault("backup_driver = cinder.backup.drivers.tsm.TSMBackupDriver")),
            "s.conf: [DEFAULT] backup_driver: expected one of posix, "
            "cinder.backup.drivers.posix.PosixBackupDriver, nfs, "
            "cinder.backup.drivers.nfs.NFSBackupDriver, s3, "
            "cinder.backup.drivers.s3.S3BackupDriver, swift, "
            "cinder.backup.drivers.swift.SwiftBackupDriver, ceph, "
            "cinder.backup.drivers.ceph.CephBackupDriver, got "
            "\"cinder.backup.drivers.tsm.TSMBackupDriver\"");
}

TEST(ConfigTest, NotSupportedYet) {
  EXPECT_EQ(ErrorOf(WithDefault("auth_strategy = ldap")),
            "s.conf: [DEFAULT] auth_strategy: expected one of noauth, keystone, got \"ldap\"");
  EXPECT_EQ(ErrorOf(WithDefault("target_protocol = nvmet_tcp"), StatusCode::kNotImplemented),
            "s.conf: [DEFAULT] target_protocol: nvmet_tcp is not supported yet; expected one of "
            "iscsi, got \"nvmet_tcp\"");
}

TEST(ConfigTest, PathAndStringErrors) {
  EXPECT_EQ(ErrorOf(WithDefault("state_path = var/lib")),
            "s.conf: [DEFAULT] state_path: expected an absolute path, got \"var/lib\"");
  EXPECT_EQ(ErrorOf(WithDefault("host = a@b")),
            "s.conf: [DEFAULT] host: expected a host name without '@', '#' or spaces (Cinder "
            "writes host@backend#pool), got \"a@b\"");
  EXPECT_EQ(ErrorOf(WithDefault("osapi_volume_listen = localhost")),
            "s.conf: [DEFAULT] osapi_volume_listen: expected an IPv4 or IPv6 address, got "
            "\"localhost\"");
  EXPECT_EQ(ErrorOf(WithDefault("storage_availability_zone =")),
            "s.conf: [DEFAULT] storage_availability_zone: expected a non-empty value, got \"\"");
}

TEST(ConfigTest, ListErrors) {
  EXPECT_EQ(ErrorOf(WithDefault("enabled_services = api, cron")),
            "s.conf: [DEFAULT] enabled_services: expected a comma-separated list of api, "
            "scheduler, volume, backup, got \"api, cron\"");
  EXPECT_EQ(ErrorOf(WithDefault("enabled_services = ,")),
            "s.conf: [DEFAULT] enabled_services: expected a non-empty comma-separated list of "
            "api, scheduler, volume, backup, got \",\"");
  EXPECT_EQ(ErrorOf("[DEFAULT]\nenabled_backends = b1, b1\n[b1]\nvolume_driver = file\n"
                    "file_volume_dir = /v\n"),
            "s.conf: [DEFAULT] enabled_backends: expected a comma-separated list without "
            "duplicates (b1 repeats), got \"b1, b1\"");
  EXPECT_EQ(ErrorOf("[DEFAULT]\nenabled_backends = a@b\n"),
            "s.conf: [DEFAULT] enabled_backends: expected a comma-separated list of section "
            "names of letters, digits, '_', '-' and '.' (not DEFAULT or database), got \"a@b\"");
}

TEST(ConfigTest, MultiLineValueAndInlineCommentExplained) {
  EXPECT_EQ(ErrorOf(WithDefault("host = a\n  b")),
            "s.conf: [DEFAULT] host: expected a single-line value (an indented line continues "
            "the previous value), got \"a\nb\"");
  EXPECT_EQ(ErrorOf(WithDefault("report_interval = 5 # seconds")),
            "s.conf: [DEFAULT] report_interval: expected an integer >= 1, got \"5 # seconds\" "
            "(comments must be on their own line)");
}

TEST(ConfigTest, SyntaxErrorsCarryLine) {
  EXPECT_EQ(ErrorOf("[DEFAULT]\n\nnonsense\n"),
            "s.conf:3: expected [section], key = value or a # comment, got \"nonsense\"");
}

TEST(ConfigTest, LastDuplicateKeyWins) {
  Config c = MustParse(WithDefault("report_interval = 5\nreport_interval = 7"));
  EXPECT_EQ(c.report_interval, 7);
}

TEST(ConfigTest, Interpolation) {
  Config c = MustParse(
      "[DEFAULT]\n"
      "state_path = /data\n"
      "host = ${storage_availability_zone}-n1\n"
      "storage_availability_zone = az1\n"
      "backup_posix_path = $state_path/bk\n"
      "target_prefix = iqn.x$$y:\n"
      "enabled_backends = b1\n"
      "[database]\n"
      "connection = sqlite:///${state_path}/db.sqlite\n"
      "[b1]\n"
      "volume_driver = file\n"
      "file_volume_dir = $backup_posix_path/../vols\n"
      "volume_backend_name = $host\n");
  EXPECT_EQ(c.host, "az1-n1");
  EXPECT_EQ(c.backup_posix_path, "/data/bk");
  EXPECT_EQ(c.target_prefix, "iqn.x$y:");
  EXPECT_EQ(c.database_connection, "sqlite:////data/db.sqlite");
  EXPECT_EQ(c.database_sqlite_path, "/data/db.sqlite");
  EXPECT_EQ(c.backends[0].file_volume_dir, "/data/bk/../vols");
  EXPECT_EQ(c.backends[0].volume_backend_name, "az1-n1");
  EXPECT_EQ(c.backends[0].availability_zone, "az1");  // default $storage_availability_zone
}

TEST(ConfigTest, InterpolatedDefaultsFollowStatePath) {
  Config c = MustParse(WithDefault("state_path = /srv/scoria"));
  EXPECT_EQ(c.backup_posix_path, "/srv/scoria/backup");
  EXPECT_EQ(c.database_sqlite_path, "/srv/scoria/scoria.sqlite");
}

TEST(ConfigTest, InterpolationErrors) {
  EXPECT_EQ(ErrorOf(WithBackend("file_volume_dir = $stat_path/v")),
            "s.conf: [b1] file_volume_dir: expected references to [DEFAULT] options, got "
            "\"$stat_path/v\" ($stat_path is not a [DEFAULT] option; did you mean $state_path?)");
  EXPECT_EQ(ErrorOf(WithDefault("host = ${file_volume_dir}")),
            "s.conf: [DEFAULT] host: expected references to [DEFAULT] options, got "
            "\"${file_volume_dir}\" ($file_volume_dir is not a [DEFAULT] option)");
  EXPECT_EQ(ErrorOf(WithDefault("host = a$")),
            "s.conf: [DEFAULT] host: expected a $name or ${name} reference (write $$ for a "
            "literal $), got \"a$\"");
  EXPECT_EQ(ErrorOf(WithDefault("host = ${host")),
            "s.conf: [DEFAULT] host: expected a $name or ${name} reference (write $$ for a "
            "literal $), got \"${host\"");
  EXPECT_EQ(ErrorOf(WithDefault("state_path = $backup_posix_path/s")),
            "s.conf: [DEFAULT] backup_posix_path: expected a value without circular "
            "references, got \"$state_path/backup\" (state_path -> backup_posix_path -> "
            "state_path)");
  EXPECT_EQ(ErrorOf(WithDefault("host = $host")),
            "s.conf: [DEFAULT] host: expected a value without circular references, got "
            "\"$host\" (host -> host)");
  // A bad value shows both the expanded text and what it came from.
  EXPECT_EQ(ErrorOf(WithDefault("default_volume_type = x\nreport_interval = $default_volume_type")),
            "s.conf: [DEFAULT] report_interval: expected an integer >= 1, got \"x\" (from "
            "\"$default_volume_type\")");
}

TEST(ConfigTest, UnknownKeys) {
  EXPECT_EQ(ErrorOf(WithDefault("state_pth = /x")),
            "s.conf: [DEFAULT] unknown key state_pth (did you mean state_path?)");
  EXPECT_EQ(ErrorOf(WithDefault("transport_url = rabbit://")),
            "s.conf: [DEFAULT] unknown key transport_url");
  EXPECT_EQ(ErrorOf(WithDefault("volume_driver = file")),
            "s.conf: [DEFAULT] unknown key volume_driver (it belongs in a backend section)");
  EXPECT_EQ(ErrorOf(WithBackend("state_path = /x")),
            "s.conf: [b1] unknown key state_path (it belongs in [DEFAULT])");
  EXPECT_EQ(ErrorOf(WithBackend("volume_grup = x")), "s.conf: [b1] unknown key volume_grup");
  EXPECT_EQ(ErrorOf(std::string(kMinimal) + "[database]\nconection = sqlite:////x\n"),
            "s.conf: [database] unknown key conection (did you mean connection?)");
}

TEST(ConfigTest, UnknownSections) {
  EXPECT_EQ(ErrorOf(std::string(kMinimal) + "[keystone]\nauth_url = x\n"),
            "s.conf: [keystone] unknown section (Scoria reads [DEFAULT], [database], "
            "[keystone_authtoken], [oslo_policy] and the backend sections named in "
            "enabled_backends; remove it)");
  EXPECT_EQ(ErrorOf(std::string(kMinimal) + "[b2]\nfile_volume_dir = /x\n"),
            "s.conf: [b2] unknown section (did you mean [b1]?)");
}

// noauth believes every caller and makes it an admin: it never listens beyond loopback unless
// the operator says the network is trusted (issue 12).
TEST(ConfigTest, NoauthListen) {
  EXPECT_EQ(MustParse(kMinimal).osapi_volume_listen, "127.0.0.1");
  EXPECT_EQ(MustParse(WithDefault("osapi_volume_listen = 127.0.0.2")).osapi_volume_listen,
            "127.0.0.2");
  EXPECT_EQ(MustParse(WithDefault("osapi_volume_listen = ::1")).osapi_volume_listen, "::1");
  EXPECT_EQ(ErrorOf(WithDefault("osapi_volume_listen = 0.0.0.0")),
            "s.conf: [DEFAULT] osapi_volume_listen: auth_strategy = noauth believes every caller "
            "and makes it an admin, so it listens only on a loopback address; got \"0.0.0.0\" "
            "(use 127.0.0.1, auth_strategy = keystone, or noauth_allow_remote = true on a "
            "trusted network)");
  EXPECT_THAT(ErrorOf(WithDefault("osapi_volume_listen = 10.1.2.3")), HasSubstr("10.1.2.3"));
  Config c = MustParse(WithDefault("osapi_volume_listen = 10.1.2.3\nnoauth_allow_remote = true"));
  EXPECT_EQ(c.osapi_volume_listen, "10.1.2.3");
  // A node without the api service listens on nothing.
  MustParse(WithDefault("osapi_volume_listen = 10.1.2.3\nenabled_services = volume"));
}

TEST(ConfigTest, KeystoneSections) {
  const std::string ks = std::string(kMinimal) +
                         "[keystone_authtoken]\n"
                         "www_authenticate_uri = http://ks:5000\n"
                         "auth_url = http://ks:5000/v3\n"
                         "auth_type = password\n"
                         "username = cinder\n"
                         "password = s3cret\n"
                         "memcached_servers = ks:11211\n"
                         "token_cache_time = 60\n"
                         "service_token_roles = service, admin\n"
                         "[oslo_policy]\n"
                         "policy_file = /etc/scoria/policy.yaml\n"
                         "enforce_new_defaults = false\n";
  const std::string keystone = "auth_strategy = keystone";
  // WithDefault's text then the two sections.
  Config c = MustParse("[DEFAULT]\n" + keystone + "\n" + (ks.c_str() + 10));
  EXPECT_EQ(c.auth_strategy, "keystone");
  EXPECT_EQ(c.osapi_volume_listen, "0.0.0.0");  // Cinder's default, with real auth
  EXPECT_EQ(c.keystone.www_authenticate_uri, "http://ks:5000");
  EXPECT_EQ(c.keystone.auth_url, "http://ks:5000/v3");
  EXPECT_EQ(c.keystone.username, "cinder");
  EXPECT_EQ(c.keystone.password, "s3cret");
  EXPECT_EQ(c.keystone.project_name, "service");
  EXPECT_EQ(c.keystone.user_domain_name, "Default");
  EXPECT_EQ(c.keystone.token_cache_time, 60);
  EXPECT_THAT(c.keystone.service_token_roles, ElementsAre("service", "admin"));
  EXPECT_TRUE(c.keystone.service_token_roles_required);
  EXPECT_EQ(c.keystone.http_request_timeout, 10);
  EXPECT_EQ(c.policy_file, "/etc/scoria/policy.yaml");
  EXPECT_FALSE(c.enforce_new_defaults);
  // The sections are read (and checked) under noauth too, only not required.
  EXPECT_EQ(MustParse(ks).keystone.username, "cinder");
  EXPECT_EQ(ErrorOf("[DEFAULT]\n" + keystone + "\n" + (kMinimal + 10)),
            "s.conf: [keystone_authtoken] missing required key auth_url (auth_strategy is "
            "keystone)");
  EXPECT_EQ(ErrorOf(ks + "[keystone_authtoken]\nusrname = x\n"),
            "s.conf: [keystone_authtoken] unknown key usrname (did you mean username?)");
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "[keystone_authtoken]\ntoken_cache_time = -2\n"),
              HasSubstr("[keystone_authtoken] token_cache_time"));
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "[keystone_authtoken]\nauth_type = v3token\n"),
              HasSubstr("[keystone_authtoken] auth_type"));
}

TEST(ConfigTest, InactiveBackendSectionIsAcceptedButChecked) {
  Config c = MustParse(std::string(kMinimal) +
                       "[old]\nvolume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver\n");
  EXPECT_EQ(c.backends.size(), 1u);
  EXPECT_EQ(ErrorOf(std::string(kMinimal) + "[old]\nvolume_driver = x\nvolume_group = v\n"),
            "s.conf: [old] unknown key volume_group");
}

TEST(ConfigTest, MissingThings) {
  EXPECT_EQ(ErrorOf(""),
            "s.conf: [DEFAULT] enabled_backends: expected at least one backend section name when "
            "enabled_services includes volume, got \"\"");
  EXPECT_EQ(ErrorOf("[DEFAULT]\nenabled_backends = b1, b2\n[b1]\nvolume_driver = file\n"
                    "file_volume_dir = /v\n"),
            "s.conf: [b2] missing section (named in [DEFAULT] enabled_backends)");
  EXPECT_EQ(ErrorOf("[DEFAULT]\nenabled_backends = b1\n[b1]\nfile_volume_dir = /v\n"),
            "s.conf: [b1] missing required key volume_driver");
  EXPECT_EQ(ErrorOf("[DEFAULT]\nenabled_backends = b1\n[b1]\nvolume_driver = file\n"),
            "s.conf: [b1] missing required key file_volume_dir");
}

TEST(ConfigTest, NoVolumeServiceNeedsNoBackends) {
  Config c = MustParse("[DEFAULT]\nenabled_services = api, scheduler\n");
  EXPECT_TRUE(c.backends.empty());
  EXPECT_FALSE(c.ServiceEnabled("volume"));
}

TEST(ConfigTest, ServiceDownTimeMustExceedReportInterval) {
  EXPECT_EQ(ErrorOf(WithDefault("report_interval = 60")),
            "s.conf: [DEFAULT] service_down_time: expected more than report_interval (60), got "
            "\"60\"");
}

TEST(ConfigTest, VolumeDriverNamesMapToCanonical) {
  // Cinder's NfsDriver is the nfs driver (libnfs), no longer the file driver on a mount.
  Config c = MustParse(
      "[DEFAULT]\nenabled_backends = b1\n[b1]\n"
      "volume_driver = cinder.volume.drivers.nfs.NfsDriver\n"
      "nfs_shares_config = /etc/scoria/nfs_shares\n");
  EXPECT_EQ(c.backends[0].volume_driver, "nfs");
  EXPECT_EQ(c.backends[0].nfs.shares_config, "/etc/scoria/nfs_shares");
  EXPECT_TRUE(c.backends[0].nfs.sparsed_volumes);
  EXPECT_EQ(ErrorOf("[DEFAULT]\nenabled_backends = b1\n[b1]\n"
                    "volume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver\n"),
            "s.conf: [b1] volume_driver: expected one of file, nfs, "
            "cinder.volume.drivers.nfs.NfsDriver, rbd, cinder.volume.drivers.rbd.RBDDriver, got "
            "\"cinder.volume.drivers.lvm.LVMVolumeDriver\"");
}

TEST(ConfigTest, NfsDriverKeys) {
  Config c = MustParse(
      "[DEFAULT]\nenabled_backends = b1\n[b1]\nvolume_driver = nfs\n"
      "nfs_shares_config = /etc/s\nnfs_sparsed_volumes = false\n"
      "nfs_mount_options = nfsvers=3,timeo=50\n");
  EXPECT_FALSE(c.backends[0].nfs.sparsed_volumes);
  EXPECT_EQ(c.backends[0].nfs.mount_options, "nfsvers=3,timeo=50");
  EXPECT_EQ(ErrorOf("[DEFAULT]\nenabled_backends = b1\n[b1]\nvolume_driver = nfs\n"),
            "s.conf: [b1] missing required key nfs_shares_config");
}

TEST(ConfigTest, BackupDriverNames) {
  for (const char* d : {"posix", "cinder.backup.drivers.posix.PosixBackupDriver"}) {
    EXPECT_EQ(MustParse(WithDefault(std::string("backup_driver = ") + d)).backup_driver, "posix");
  }
  for (const char* d : {"nfs", "cinder.backup.drivers.nfs.NFSBackupDriver"}) {
    Config c = MustParse(
        WithDefault(std::string("backup_driver = ") + d + "\nbackup_share = 10.0.0.1:/backups"));
    EXPECT_EQ(c.backup_driver, "nfs");
    EXPECT_EQ(c.backup_share, "10.0.0.1:/backups");
  }
  EXPECT_EQ(ErrorOf(WithDefault("backup_driver = nfs")),
            "s.conf: [DEFAULT] missing required key backup_share (backup_driver is nfs)");
}

TEST(ConfigTest, ObjectStoreBackupDrivers) {
  const std::string s3 =
      "backup_s3_endpoint_url = http://127.0.0.1:7480\n"
      "backup_s3_store_access_key = ak\nbackup_s3_store_secret_key = sk\n";
  for (const char* d : {"s3", "cinder.backup.drivers.s3.S3BackupDriver"}) {
    Config c = MustParse(WithDefault(std::string("backup_driver = ") + d + "\n" + s3));
    EXPECT_EQ(c.backup_driver, "s3");
    EXPECT_EQ(c.backup_s3_endpoint_url, "http://127.0.0.1:7480");
    EXPECT_EQ(c.backup_s3_store_secret_key, "sk");
    EXPECT_EQ(c.backup_s3_store_bucket, "volumebackups");  // Cinder's default
    EXPECT_EQ(c.backup_s3_object_size, 52428800);
    EXPECT_TRUE(c.backup_s3_verify_ssl);
  }
  EXPECT_EQ(ErrorOf(WithDefault("backup_driver = s3\nbackup_s3_endpoint_url = http://h:1\n"
                                "backup_s3_store_access_key = ak")),
            "s.conf: [DEFAULT] missing required key backup_s3_store_secret_key (backup_driver "
            "is s3)");
  EXPECT_EQ(ErrorOf(WithDefault("backup_s3_object_size = 1048576")),
            "s.conf: [DEFAULT] backup_s3_object_size: expected an integer >= 5242880, got "
            "\"1048576\"");
  const std::string swift =
      "backup_swift_auth_url = http://127.0.0.1:7480/auth/1.0\n"
      "backup_swift_user = acct:user\nbackup_swift_key = k\n";
  for (const char* d : {"swift", "cinder.backup.drivers.swift.SwiftBackupDriver"}) {
    Config c = MustParse(WithDefault(std::string("backup_driver = ") + d + "\n" + swift));
    EXPECT_EQ(c.backup_driver, "swift");
    EXPECT_EQ(c.backup_swift_user, "acct:user");
    EXPECT_EQ(c.backup_swift_container, "volumebackups");
    EXPECT_EQ(c.backup_swift_retry_attempts, 3);
    EXPECT_EQ(c.backup_swift_retry_backoff, 2);
  }
  EXPECT_EQ(ErrorOf(WithDefault("backup_driver = swift")),
            "s.conf: [DEFAULT] missing required key backup_swift_auth_url (backup_driver is "
            "swift)");
  EXPECT_EQ(ErrorOf(WithDefault("backup_swift_auth = per_user"), StatusCode::kNotImplemented),
            "s.conf: [DEFAULT] backup_swift_auth: per_user is not supported yet; expected one of "
            "single_user, got \"per_user\"");
  // SSE-C is refused, and the key is not repeated in the message.
  const std::string err =
      ErrorOf(WithDefault("backup_s3_sse_customer_key = s3cr3tk3y"), StatusCode::kNotImplemented);
  EXPECT_EQ(err,
            "s.conf: [DEFAULT] backup_s3_sse_customer_key: S3 server-side encryption with "
            "customer keys is not supported yet; remove the option (chunks are stored "
            "compressed and checksummed, not encrypted)");
  EXPECT_EQ(err.find("s3cr3tk3y"), std::string::npos);
  EXPECT_NE(
      ErrorOf(WithDefault("backup_s3_sse_customer_algorithm = AES256"), StatusCode::kNotImplemented)
          .find("backup_s3_sse_customer_algorithm: S3 server-side encryption"),
      std::string::npos);
}

// Cinder's CephBackupDriver options: every one loads; stripe, journal and snapshot options are
// accepted and not used (Scoria writes no RBD images for backups).
TEST(ConfigTest, CephBackupDriver) {
  for (const char* d : {"ceph", "cinder.backup.drivers.ceph.CephBackupDriver"}) {
    Config c = MustParse(WithDefault(std::string("backup_driver = ") + d + "\n"));
    EXPECT_EQ(c.backup_driver, "ceph");
    EXPECT_EQ(c.backup_ceph_conf, "/etc/ceph/ceph.conf");  // Cinder's defaults
    EXPECT_EQ(c.backup_ceph_user, "cinder");
    EXPECT_EQ(c.backup_ceph_pool, "backups");
    EXPECT_EQ(c.backup_ceph_chunk_size, 134217728);
    EXPECT_EQ(c.backup_ceph_op_timeout, 120);
    EXPECT_TRUE(c.restore_discard_excess_bytes);
  }
  Config c = MustParse(
      WithDefault("backup_driver = ceph\nbackup_ceph_user = backup\nbackup_ceph_pool = bk\n"
                  "backup_ceph_stripe_unit = 4194304\nbackup_ceph_stripe_count = 4\n"
                  "backup_ceph_image_journals = true\nbackup_ceph_max_snapshots = 2\n"
                  "restore_discard_excess_bytes = false\n"));
  EXPECT_EQ(c.backup_ceph_user, "backup");
  EXPECT_EQ(c.backup_ceph_pool, "bk");
  EXPECT_FALSE(c.restore_discard_excess_bytes);
  EXPECT_EQ(ErrorOf(WithDefault("backup_ceph_chunk_size = 4194304")),
            "s.conf: [DEFAULT] backup_ceph_chunk_size: expected an integer >= 68157440, got "
            "\"4194304\"");
}

TEST(ConfigTest, TwoBackends) {
  Config c = MustParse(
      "[DEFAULT]\n"
      "enabled_backends = fast, bulk\n"
      "storage_availability_zone = az1\n"
      "[bulk]\n"
      "volume_driver = file\n"
      "file_volume_dir = /srv/hdd\n"
      "max_over_subscription_ratio = auto\n"
      "reserved_percentage = 10\n"
      "volume_backend_name = cheap\n"
      "[fast]\n"
      "volume_driver = file\n"
      "file_volume_dir = /srv/nvme\n"
      "backend_availability_zone = az2\n"
      "filter_function = volume.size < 100\n"
      "goodness_function = 100 - capabilities.utilization\n");
  ASSERT_EQ(c.backends.size(), 2u);
  const BackendConfig& fast = c.backends[0];  // enabled_backends order, not file order
  const BackendConfig& bulk = c.backends[1];
  EXPECT_EQ(fast.section, "fast");
  EXPECT_EQ(fast.volume_driver, "file");
  EXPECT_EQ(fast.volume_backend_name, "fast");
  EXPECT_EQ(fast.availability_zone, "az2");
  EXPECT_EQ(fast.filter_function, "volume.size < 100");
  EXPECT_EQ(fast.goodness_function, "100 - capabilities.utilization");
  EXPECT_EQ(fast.file_volume_dir, "/srv/nvme");
  EXPECT_FALSE(fast.auto_over_subscription);
  EXPECT_EQ(bulk.section, "bulk");
  EXPECT_EQ(bulk.volume_backend_name, "cheap");
  EXPECT_EQ(bulk.availability_zone, "az1");
  EXPECT_EQ(bulk.reserved_percentage, 10);
  EXPECT_TRUE(bulk.auto_over_subscription);
}

TEST(ConfigTest, BackendsMayNotShareAVolumeDirectory) {
  EXPECT_EQ(ErrorOf("[DEFAULT]\nenabled_backends = a, b\n"
                    "[a]\nvolume_driver = file\nfile_volume_dir = /v\n"
                    "[b]\nvolume_driver = file\nfile_volume_dir = /v\n"),
            "s.conf: [b] file_volume_dir: expected a directory no other backend uses ([a] has "
            "it), got \"/v\"");
  EXPECT_EQ(ErrorOf(WithBackend("file_volume_dir = vols")),
            "s.conf: [b1] file_volume_dir: expected an absolute path, got \"vols\"");
}

TEST(ConfigTest, LaterWorkKeysAreAcceptedAndChecked) {
  MustParse(
      WithDefault("backup_compression_algorithm = zstd\nbackup_file_size = 1048576\n"
                  "backup_sha_block_size_bytes = 4096\nbackup_enable_progress_timer = false\n"
                  "target_helper = lioadm\ntarget_protocol = iscsi"));
  EXPECT_EQ(ErrorOf(WithDefault("backup_file_size = 0")),
            "s.conf: [DEFAULT] backup_file_size: expected an integer >= 1, got \"0\"");
}

TEST(ConfigTest, DatabaseConnection) {
  Config c = MustParse(std::string(kMinimal) + "[database]\nconnection = sqlite:////tmp/x.db\n");
  EXPECT_EQ(c.database_connection, "sqlite:////tmp/x.db");
  EXPECT_EQ(c.database_sqlite_path, "/tmp/x.db");

  c = MustParse(std::string(kMinimal) +
                "[database]\nconnection = postgresql://scoria:s3cret@db:5432/scoria\n");
  EXPECT_EQ(c.database_connection, "postgresql://scoria:s3cret@db:5432/scoria");
  EXPECT_EQ(c.database_sqlite_path, "");
  c = MustParse(std::string(kMinimal) +
                "[database]\nconnection = postgresql+psycopg2://db/scoria\n");
  EXPECT_EQ(c.database_connection, "postgresql+psycopg2://db/scoria");
  // No database name: the password is still hidden in the message.
  EXPECT_EQ(ErrorOf(std::string(kMinimal) + "[database]\nconnection = postgresql://u:pw@db\n"),
            "s.conf: [database] connection: expected sqlite:///ABSOLUTE/PATH or "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE, got \"postgresql://u:***@db\"");
  EXPECT_EQ(ErrorOf(std::string(kMinimal) +
                    "[database]\nconnection = mysql+pymysql://cinder:pw@ctl/cinder\n"),
            "s.conf: [database] connection: expected sqlite:///ABSOLUTE/PATH or "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE, got "
            "\"mysql+pymysql://cinder:***@ctl/cinder\"");
  EXPECT_EQ(ErrorOf(std::string(kMinimal) + "[database]\nconnection = sqlite:///rel.db\n"),
            "s.conf: [database] connection: expected sqlite:///ABSOLUTE/PATH or "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE, got \"sqlite:///rel.db\"");
  EXPECT_EQ(
      ErrorOf(WithDefault("state_path = /s") + "[database]\nconnection = sqlite://$state_path\n"),
      "s.conf: [database] connection: expected sqlite:///ABSOLUTE/PATH or "
      "postgresql://USER:PASSWORD@HOST:PORT/DATABASE, got \"sqlite:///s\" (from "
      "\"sqlite://$state_path\")");
}

TEST(ConfigTest, LoadConfigReadsFileAndNamesUnreadableOnes) {
  auto missing = LoadConfig("/nonexistent/scoria.conf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "/nonexistent/scoria.conf: cannot read: No such file or directory");

  auto dir = LoadConfig("/");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().message(), "/: cannot read: Is a directory");

  std::string path = ::testing::TempDir() + "/config_test_" + std::to_string(getpid()) + ".conf";
  {
    std::ofstream out(path);
    out << kMinimal;
  }
  auto c = LoadConfig(path);
  std::remove(path.c_str());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->path, path);
  EXPECT_EQ(c->backends.size(), 1u);
}

TEST(ConfigTest, DocumentedOptionsCoverTheTable) {
  std::set<std::string> names;
  for (const auto& d : DocumentedOptions()) {
    EXPECT_TRUE(d.section == "DEFAULT" || d.section == "database" ||
                d.section == "keystone_authtoken" || d.section == "oslo_policy" ||
                d.section == "backend")
        << d.name;
    EXPECT_FALSE(d.help.empty()) << d.name;
    EXPECT_TRUE(names.insert(d.section + "." + d.name).second) << "duplicate " << d.name;
  }
  // Every field of Config/BackendConfig that comes from the file has an option.
  for (const char* n :
       {"DEFAULT.state_path", "DEFAULT.host", "DEFAULT.per_volume_size_limit",
        "database.connection", "backend.volume_driver", "backend.file_volume_dir"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
}

// docs/configuration.md is the reference for operators; it must list every option in the
// table under its section, with the table's type and default, and nothing else.
TEST(ConfigTest, DocsListEveryOption) {
  std::ifstream in(SCORIA_SOURCE_DIR "/docs/configuration.md");
  ASSERT_TRUE(in) << "cannot open docs/configuration.md";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();

  std::set<std::string> table_rows;
  for (const auto& d : DocumentedOptions()) {
    std::string cell = "`" + d.name + "`";
    EXPECT_THAT(doc, HasSubstr(cell)) << d.name << " is not documented";
    std::string row = "| " + cell + " | " + d.type + " | ";
    EXPECT_THAT(doc, HasSubstr(row)) << d.name << ": docs row must start with \"" << row << "\"";
    size_t at = doc.find(row);
    if (at != std::string::npos) {
      std::string line = doc.substr(at, doc.find('\n', at) - at);
      std::string def = d.default_value.empty() ? "(empty)" : d.default_value;
      EXPECT_THAT(line, HasSubstr(def)) << d.name << ": docs default differs from the table";
    }
    table_rows.insert(d.name);
  }
  // And no row documents an option the table does not have.
  std::istringstream lines(doc);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("| `", 0) != 0) continue;
    size_t end = line.find('`', 3);
    std::string name = line.substr(3, end - 3);
    EXPECT_TRUE(table_rows.count(name)) << "docs document unknown option " << name;
  }
}

// The example files in the docs must stay valid.
TEST(ConfigTest, DocsExamplesParse) {
  std::ifstream in(SCORIA_SOURCE_DIR "/docs/configuration.md");
  ASSERT_TRUE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  int examples = 0;
  for (size_t at = doc.find("\n## Example"); at != std::string::npos;
       at = doc.find("\n## Example", at + 1)) {
    size_t start = doc.find("```ini\n", at);
    ASSERT_NE(start, std::string::npos);
    start += 7;
    size_t end = doc.find("```", start);
    auto r = ParseConfig(doc.substr(start, end - start), "example");
    EXPECT_TRUE(r.ok()) << r.status().message();
    ++examples;
  }
  EXPECT_EQ(examples, 2);
}

}  // namespace
}  // namespace scoria
