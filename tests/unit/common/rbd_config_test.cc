// The rbd driver's keys in a backend section: Cinder's names, defaults and ranges.
#include <gtest/gtest.h>

#include <string>

#include "common/config.h"

namespace scoria {
namespace {

Result<Config> Parse(const std::string& backend_lines) {
  return ParseConfig("[DEFAULT]\nenabled_backends = ceph\n[ceph]\n" + backend_lines, "s.conf");
}

TEST(RbdConfigTest, DefaultsAreCinders) {
  auto c = Parse("volume_driver = cinder.volume.drivers.rbd.RBDDriver\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const BackendConfig& b = c->backends[0];
  EXPECT_EQ(b.volume_driver, "rbd");
  EXPECT_EQ(b.rbd.pool, "rbd");
  EXPECT_EQ(b.rbd.ceph_conf, "");
  EXPECT_EQ(b.rbd.user, "");
  EXPECT_FALSE(b.rbd.flatten_volume_from_snapshot);
  EXPECT_EQ(b.rbd.max_clone_depth, 5);
  EXPECT_EQ(b.rbd.store_chunk_size_mb, 4);
  EXPECT_EQ(b.rbd.connect_timeout, -1);
  EXPECT_FALSE(b.rbd.report_discard_supported);
}

TEST(RbdConfigTest, EveryKeyIsRead) {
  auto c = Parse(
      "volume_driver = rbd\nrbd_pool = volumes\nrbd_ceph_conf = /etc/ceph/ceph.conf\n"
      "rbd_user = cinder\nrbd_secret_uuid = 457eb676-33da-42ec-9a8c-9293d545c337\n"
      "rbd_flatten_volume_from_snapshot = true\nrbd_max_clone_depth = 0\n"
      "rbd_store_chunk_size = 8\nrados_connect_timeout = 10\nreport_discard_supported = true\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  const auto& r = c->backends[0].rbd;
  EXPECT_EQ(r.pool, "volumes");
  EXPECT_EQ(r.ceph_conf, "/etc/ceph/ceph.conf");
  EXPECT_EQ(r.user, "cinder");
  EXPECT_EQ(r.secret_uuid, "457eb676-33da-42ec-9a8c-9293d545c337");
  EXPECT_TRUE(r.flatten_volume_from_snapshot);
  EXPECT_EQ(r.max_clone_depth, 0);
  EXPECT_EQ(r.store_chunk_size_mb, 8);
  EXPECT_EQ(r.connect_timeout, 10);
  EXPECT_TRUE(r.report_discard_supported);
}

TEST(RbdConfigTest, BadValuesAreNamed) {
  auto c = Parse("volume_driver = rbd\nrbd_store_chunk_size = 64\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "s.conf: [ceph] rbd_store_chunk_size: expected an integer in 1..32, got \"64\"");
  c = Parse("volume_driver = rbd\nrbd_ceph_conf = ceph.conf\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "s.conf: [ceph] rbd_ceph_conf: expected an absolute path, got \"ceph.conf\"");
  c = Parse("volume_driver = rbd\nrbd_pool =\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "s.conf: [ceph] rbd_pool: expected a non-empty value, got \"\"");
}

}  // namespace
}  // namespace scoria
