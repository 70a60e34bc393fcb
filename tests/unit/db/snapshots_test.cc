// snapshots_repo on an in-memory SQLite database with every migration applied.
#include <gtest/gtest.h>

#include "db/snapshots_repo.h"
#include "db/volumes_repo.h"
#include "test_databases.h"

namespace scoria::db {
namespace {

class SnapshotsRepoTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing::OpenTestDatabase(GetParam());
    ASSERT_NE(db_, nullptr);
    tx_ = std::move(db_->Begin(true).value());
    VolumeRecord v;
    v.id = "vol1";
    v.project_id = "p1";
    v.user_id = "u1";
    v.size = 2;
    v.status = "available";
    v.availability_zone = "nova";
    v.volume_type_id = "t";
    v.host = "h@b#pool";
    v.created_at = 1;
    ASSERT_TRUE(InsertVolume(*tx_, v).ok());
  }
  SnapshotRecord Snap(const std::string& id, int64_t created, const std::string& project = "p1") {
    SnapshotRecord s;
    s.id = id;
    s.project_id = project;
    s.user_id = "u1";
    s.volume_id = "vol1";
    s.size = 2;
    s.status = "creating";
    s.created_at = created;
    return s;
  }
  std::unique_ptr<Database> db_;
  std::unique_ptr<Transaction> tx_;
};

TEST_P(SnapshotsRepoTest, InsertGetUpdateDelete) {
  SnapshotRecord s = Snap("s1", 10);
  s.name = "first";
  s.metadata = {{"k", "v"}};
  ASSERT_TRUE(InsertSnapshot(*tx_, s).ok());
  auto got = GetSnapshot(*tx_, "s1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "first");
  EXPECT_EQ(got->size, 2);
  EXPECT_EQ(got->progress, "0%");
  EXPECT_EQ(got->metadata.at("k"), "v");
  EXPECT_FALSE(got->updated_at);
  got->status = "available";
  got->progress = "100%";
  ASSERT_TRUE(UpdateSnapshot(*tx_, *got).ok());
  got = GetSnapshot(*tx_, "s1");
  EXPECT_EQ(got->status, "available");
  EXPECT_EQ(got->progress, "100%");
  EXPECT_TRUE(got->updated_at);
  ASSERT_TRUE(DeleteSnapshot(*tx_, "s1").ok());
  EXPECT_EQ(GetSnapshot(*tx_, "s1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(GetSnapshot(*tx_, "s1").status().message(), "Snapshot s1 could not be found.");
  EXPECT_TRUE(DeleteSnapshot(*tx_, "s1").ok());
  EXPECT_EQ(UpdateSnapshot(*tx_, s).code(), StatusCode::kNotFound);
}

TEST_P(SnapshotsRepoTest, ListsByProjectAndVolumeOldestFirst) {
  ASSERT_TRUE(InsertSnapshot(*tx_, Snap("s2", 20)).ok());
  ASSERT_TRUE(InsertSnapshot(*tx_, Snap("s1", 10)).ok());
  ASSERT_TRUE(InsertSnapshot(*tx_, Snap("s3", 30, "p2")).ok());
  auto p1 = ListSnapshots(*tx_, std::string("p1"));
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->size(), 2u);
  EXPECT_EQ((*p1)[0].id, "s1");
  auto all = ListSnapshots(*tx_, std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto of_vol = VolumeSnapshots(*tx_, "vol1");
  ASSERT_TRUE(of_vol.ok());
  ASSERT_EQ(of_vol->size(), 3u);
  EXPECT_EQ(of_vol->back().id, "s3");
  auto none = VolumeSnapshots(*tx_, "other");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_P(SnapshotsRepoTest, MetadataMergeReplaceDeleteKey) {
  ASSERT_TRUE(InsertSnapshot(*tx_, Snap("s1", 10)).ok());
  ASSERT_TRUE(MergeSnapshotMetadata(*tx_, "s1", {{"a", "1"}, {"b", "2"}}).ok());
  ASSERT_TRUE(MergeSnapshotMetadata(*tx_, "s1", {{"a", "3"}}).ok());
  EXPECT_EQ(GetSnapshot(*tx_, "s1")->metadata,
            (std::map<std::string, std::string>{{"a", "3"}, {"b", "2"}}));
  ASSERT_TRUE(ReplaceSnapshotMetadata(*tx_, "s1", {{"c", "4"}}).ok());
  EXPECT_EQ(GetSnapshot(*tx_, "s1")->metadata, (std::map<std::string, std::string>{{"c", "4"}}));
  ASSERT_TRUE(DeleteSnapshotMetadataKey(*tx_, "s1", "c").ok());
  EXPECT_EQ(DeleteSnapshotMetadataKey(*tx_, "s1", "c").code(), StatusCode::kNotFound);
}

TEST_P(SnapshotsRepoTest, UsageAndBackendIds) {
  ASSERT_TRUE(InsertSnapshot(*tx_, Snap("s1", 10)).ok());
  ASSERT_TRUE(InsertSnapshot(*tx_, Snap("s2", 20)).ok());
  auto u = ProjectSnapshotUsage(*tx_, "p1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->snapshots, 2);
  EXPECT_EQ(u->gigabytes, 4);
  EXPECT_EQ(ProjectSnapshotUsage(*tx_, "p9")->snapshots, 0);
  auto ids = SnapshotIdsOnBackend(*tx_, "h@b");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(ids->size(), 2u);
  EXPECT_TRUE(SnapshotIdsOnBackend(*tx_, "h@other")->empty());
}

TEST_P(SnapshotsRepoTest, UsagePerProjectOnOneBackend) {
  ASSERT_TRUE(InsertSnapshot(*tx_, Snap("s1", 10)).ok());
  ASSERT_TRUE(InsertSnapshot(*tx_, Snap("s2", 20, "p2")).ok());
  ASSERT_TRUE(InsertSnapshot(*tx_, Snap("s3", 30, "p2")).ok());
  auto u = ProjectSnapshotUsageOnBackend(*tx_, "h@b").value();
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u["p1"].snapshots, 1);
  EXPECT_EQ(u["p1"].gigabytes, 2);
  EXPECT_EQ(u["p2"].snapshots, 2);
  EXPECT_EQ(u["p2"].gigabytes, 4);
  EXPECT_TRUE(ProjectSnapshotUsageOnBackend(*tx_, "h_b").value().empty());  // '_' is literal
  EXPECT_TRUE(ProjectSnapshotUsageOnBackend(*tx_, "h@bx").value().empty());
}

SCORIA_ON_EVERY_DATABASE(SnapshotsRepoTest);

}  // namespace
}  // namespace scoria::db
