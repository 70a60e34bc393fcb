// Backup views per microversion, and Scoria's progress object.
#include "api/resources/backups/backup_views.h"

#include <gtest/gtest.h>

namespace scoria::api {
namespace {

db::BackupRecord Sample() {
  db::BackupRecord b;
  b.id = "b1";
  b.project_id = "p1";
  b.user_id = "u1";
  b.volume_id = "v1";
  b.availability_zone = "nova";
  b.status = "creating";
  b.size = 1;
  b.data_timestamp = 1'700'000'000'000'000;
  b.created_at = b.data_timestamp;
  b.metadata = {{"k", "v"}};
  return b;
}

Request Req(ApiVersion v, bool admin = true) {
  Request r;
  r.version = v;
  r.base_url = "http://h:1";
  r.ctx.is_admin = admin;
  r.ctx.project_id = "p1";
  return r;
}

TEST(BackupViewsTest, DetailFieldsFollowTheMicroversion) {
  db::BackupRecord b = Sample();
  auto v30 = BackupDetailView(Req({3, 0}), b, 0);
  for (const char* k : {"id", "status", "size", "object_count", "availability_zone", "container",
                        "created_at", "updated_at", "name", "description", "fail_reason",
                        "volume_id", "links", "is_incremental", "has_dependent_backups",
                        "snapshot_id", "data_timestamp"}) {
    EXPECT_TRUE(v30.contains(k)) << k;
  }
  // Scoria's additions only for a client that asks (X-Scoria-Details: true).
  for (const char* k : {"parent_id", "progress", "verify_result", "verified_at"}) {
    EXPECT_FALSE(v30.contains(k)) << k;
  }
  Request asking = Req({3, 0});
  asking.headers.emplace_back("X-Scoria-Details", "true");
  auto extra = BackupDetailView(asking, b, 0);
  for (const char* k : {"parent_id", "progress", "verify_result", "verified_at"}) {
    EXPECT_TRUE(extra.contains(k)) << k;
  }
  EXPECT_FALSE(v30.contains("metadata"));
  EXPECT_FALSE(v30.contains("user_id"));
  EXPECT_FALSE(v30.contains("os-backup-project-attr:project_id"));
  EXPECT_EQ(v30["is_incremental"], false);
  EXPECT_EQ(v30["has_dependent_backups"], false);
  EXPECT_EQ(v30["data_timestamp"], "2023-11-14T22:13:20.000000");
  auto v364 = BackupDetailView(Req({3, 64}), b, 2);
  EXPECT_EQ(v364["metadata"]["k"], "v");
  EXPECT_EQ(v364["user_id"], "u1");
  EXPECT_EQ(v364["os-backup-project-attr:project_id"], "p1");
  EXPECT_TRUE(v364["encryption_key_id"].is_null());
  EXPECT_EQ(v364["has_dependent_backups"], true);
  EXPECT_FALSE(BackupDetailView(Req({3, 64}, false), b, 0)
                   .contains("os-backup-project-attr:project_id"));
  b.parent_id = "b0";
  EXPECT_EQ(BackupDetailView(Req({3, 0}), b, 0)["is_incremental"], true);
}

TEST(BackupViewsTest, ProgressWhileAJobRuns) {
  db::BackupRecord b = Sample();
  EXPECT_TRUE(BackupProgressView(b).is_null());
  b.progress_op = "restore";
  b.progress_done = 256;
  b.progress_total = 1024;
  auto p = BackupProgressView(b);
  EXPECT_EQ(p["operation"], "restore");
  EXPECT_EQ(p["bytes_done"], 256);
  EXPECT_EQ(p["bytes_total"], 1024);
  EXPECT_EQ(p["percent"], 25);
  b.progress_total = 0;  // not planned yet
  EXPECT_EQ(BackupProgressView(b)["percent"], 0);
}

TEST(BackupViewsTest, Summary) {
  auto s = BackupSummaryView(Req({3, 0}), Sample());
  EXPECT_EQ(s.size(), 3u);
  EXPECT_TRUE(s["name"].is_null());
  EXPECT_EQ(s["links"][0]["href"], "http://h:1/v3/backups/b1");
}

}  // namespace
}  // namespace scoria::api
