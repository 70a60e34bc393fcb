#include <gtest/gtest.h>

#include "db/attachments_repo.h"
#include "db/database.h"
#include "db/migrations.h"
#include "db/tasks_repo.h"
#include "db/volumes_repo.h"
#include "test_databases.h"

namespace scoria::db {
namespace {

class AttachmentsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing::OpenTestDatabase(GetParam());
    ASSERT_NE(db_, nullptr);
    tx_ = std::move(db_->Begin(true).value());
    ASSERT_TRUE(InsertVolume(*tx_, Vol("v1", "h@b#p")).ok());
    ASSERT_TRUE(InsertVolume(*tx_, Vol("v2", "other@b#p")).ok());
  }
  static VolumeRecord Vol(const std::string& id, const std::string& host) {
    VolumeRecord v;
    v.id = id;
    v.project_id = "p1";
    v.user_id = "u1";
    v.size = 1;
    v.status = "available";
    v.availability_zone = "nova";
    v.volume_type_id = "t";
    v.host = host;
    v.created_at = 1;
    return v;
  }
  static AttachmentRecord Att(const std::string& id, const std::string& vol,
                              const std::string& status, int64_t created) {
    AttachmentRecord a;
    a.id = id;
    a.volume_id = vol;
    a.project_id = "p1";
    a.user_id = "u1";
    a.attach_status = status;
    a.created_at = created;
    return a;
  }
  std::unique_ptr<Database> db_;
  std::unique_ptr<Transaction> tx_;
};

TEST_P(AttachmentsTest, TargetChapCredentialsRoundTrip) {
  AttachmentRecord a = Att("a1", "v1", attach_status::kReserved, 10);
  a.target_chap_user = "target-user";
  a.target_chap_secret = "target-secret-1";
  ASSERT_TRUE(InsertAttachment(*tx_, a).ok());
  auto got = GetAttachment(*tx_, "a1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->target_chap_user, "target-user");
  EXPECT_EQ(got->target_chap_secret, "target-secret-1");
  got->target_chap_secret = "target-secret-2";
  ASSERT_TRUE(UpdateAttachment(*tx_, *got).ok());
  EXPECT_EQ(GetAttachment(*tx_, "a1")->target_chap_secret, "target-secret-2");
}

TEST_P(AttachmentsTest, RoundTripUpdateDelete) {
  AttachmentRecord a = Att("a1", "v1", attach_status::kReserved, 10);
  a.instance_uuid = "i1";
  a.chap_user = "u";
  a.chap_secret = "s";
  ASSERT_TRUE(InsertAttachment(*tx_, a).ok());
  auto got = GetAttachment(*tx_, "a1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->instance_uuid, "i1");
  EXPECT_EQ(got->chap_secret, "s");
  EXPECT_FALSE(got->exported);
  EXPECT_FALSE(got->attach_mode.has_value());
  got->attach_status = attach_status::kAttaching;
  got->exported = true;
  got->connection_info = "{}";
  got->attach_mode = "ro";
  ASSERT_TRUE(UpdateAttachment(*tx_, *got).ok());
  got = GetAttachment(*tx_, "a1");
  EXPECT_TRUE(got->exported);
  EXPECT_EQ(got->attach_mode, "ro");
  EXPECT_TRUE(got->updated_at.has_value());
  ASSERT_TRUE(DeleteAttachment(*tx_, "a1").ok());
  EXPECT_EQ(GetAttachment(*tx_, "a1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(UpdateAttachment(*tx_, a).code(), StatusCode::kNotFound);
}

TEST_P(AttachmentsTest, ListFiltersAndOrder) {
  ASSERT_TRUE(InsertAttachment(*tx_, Att("a1", "v1", "reserved", 1)).ok());
  ASSERT_TRUE(InsertAttachment(*tx_, Att("a2", "v1", "attached", 2)).ok());
  auto other = Att("a3", "v2", "attached", 3);
  other.project_id = "p2";
  other.instance_uuid = "i9";
  ASSERT_TRUE(InsertAttachment(*tx_, other).ok());
  auto all = ListAttachments(*tx_, {});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "a3");  // newest first
  AttachmentFilter f;
  f.project_id = "p1";
  EXPECT_EQ(ListAttachments(*tx_, f)->size(), 2u);
  f.attach_status = "attached";
  EXPECT_EQ(ListAttachments(*tx_, f)->size(), 1u);
  AttachmentFilter by_instance;
  by_instance.instance_uuid = "i9";
  EXPECT_EQ(ListAttachments(*tx_, by_instance)->at(0).id, "a3");
  EXPECT_EQ(VolumeAttachments(*tx_, "v1")->size(), 2u);
  auto grouped = AttachmentsOfVolumes(*tx_, {"v1", "v2", "none"});
  ASSERT_TRUE(grouped.ok());
  EXPECT_EQ(grouped->at("v1").size(), 2u);
  EXPECT_EQ(grouped->at("v2").size(), 1u);
  EXPECT_EQ(grouped->count("none"), 0u);
}

TEST_P(AttachmentsTest, ExportedOnBackendOnlyMatchesThatBackend) {
  auto a = Att("a1", "v1", "attached", 1);
  a.exported = true;
  auto b = Att("a2", "v2", "attached", 2);
  b.exported = true;
  auto c = Att("a3", "v1", "reserved", 3);
  for (const auto& x : {a, b, c}) ASSERT_TRUE(InsertAttachment(*tx_, x).ok());
  auto got = ExportedAttachmentsOnBackend(*tx_, "h@b");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].id, "a1");
}

TEST_P(AttachmentsTest, VolumeStatusFollowsCinderRule) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(VolumeStatusFor({}), (P{"available", "detached"}));
  EXPECT_EQ(VolumeStatusFor({Att("x", "v1", "reserved", 1)}), (P{"reserved", "reserved"}));
  EXPECT_EQ(VolumeStatusFor({Att("x", "v1", "reserved", 1), Att("y", "v1", "attached", 1)}),
            (P{"in-use", "attached"}));
  EXPECT_EQ(VolumeStatusFor({Att("x", "v1", "detaching", 1), Att("y", "v1", "attaching", 1)}),
            (P{"attaching", "attaching"}));
  // error_attaching rows never reached a host: ignored.
  EXPECT_EQ(VolumeStatusFor({Att("x", "v1", "error_attaching", 1)}), (P{"available", "detached"}));
}

TEST_P(AttachmentsTest, RecomputeKeepsExtendingAndSetsPreviousStatus) {
  ASSERT_TRUE(InsertAttachment(*tx_, Att("a1", "v1", "attached", 1)).ok());
  auto v = GetVolume(*tx_, "v1");
  ASSERT_TRUE(RecomputeVolumeStatus(*tx_, *v).ok());
  EXPECT_EQ(GetVolume(*tx_, "v1")->status, "in-use");
  EXPECT_EQ(GetVolume(*tx_, "v1")->attach_status, "attached");
  v->status = "extending";
  ASSERT_TRUE(UpdateVolume(*tx_, *v).ok());
  ASSERT_TRUE(DeleteAttachment(*tx_, "a1").ok());
  ASSERT_TRUE(RecomputeVolumeStatus(*tx_, *v).ok());
  auto after = GetVolume(*tx_, "v1");
  EXPECT_EQ(after->status, "extending");
  EXPECT_EQ(after->previous_status, "available");
  EXPECT_EQ(after->attach_status, "detached");
}

TEST_P(AttachmentsTest, TaskQueuedUntilFinished) {
  auto id = EnqueueTask(*tx_, "export_attachment", "h@b", "v1", "{}");
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(*TaskQueued(*tx_, *id));
  auto claimed = ClaimTask(*tx_, {"h@b"}, "me", 1000000);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_TRUE(FinishTask(*tx_, *id, "me").ok());
  EXPECT_FALSE(*TaskQueued(*tx_, *id));
}

SCORIA_ON_EVERY_DATABASE(AttachmentsTest);

}  // namespace
}  // namespace scoria::db
