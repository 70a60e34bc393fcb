// The task protocol's JSON is frozen: rows written by earlier builds must still parse. Each
// test below feeds the exact args that the builds before the typed protocol wrote (copied
// from their EnqueueTask calls), then checks what the current ToJson writes parses back.
#include "tasks/protocol.h"

#include <gtest/gtest.h>

#include <set>

namespace scoria::tasks {
namespace {

using nlohmann::json;

template <class Args>
Result<Args> Parse(const std::string& text) {
  db::Task t;
  t.id = 7;
  t.kind = Args::kKind;
  t.args = text;
  return ParseArgs<Args>(t);
}

template <class Args>
Args RoundTrip(const Args& a) {
  auto back = Parse<Args>(a.ToJson().dump());
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  return back.ok() ? *back : Args{};
}

TEST(TaskProtocolTest, ScheduleCreateVolumeReadsEveryEarlierShape) {
  // The api wrote "{}", or the user's AZ and the source's pool for a clone.
  auto plain = Parse<ScheduleCreateVolume>("{}");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->availability_zone);
  EXPECT_TRUE(plain->attempted_pools.empty());
  auto clone = Parse<ScheduleCreateVolume>(
      R"({"availability_zone":"az1","resource_backend":"h@b#p"})");
  ASSERT_TRUE(clone.ok());
  EXPECT_EQ(*clone->availability_zone, "az1");
  EXPECT_EQ(*clone->resource_backend, "h@b#p");
  // A manager's reschedule after a failed create.
  auto again = Parse<ScheduleCreateVolume>(
      R"({"operation":"create","attempted_pools":["h@b#p"],"last_error":"no space"})");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->attempted_pools, std::vector<std::string>{"h@b#p"});
  EXPECT_EQ(*again->last_error, "no space");

  ScheduleCreateVolume a;
  a.availability_zone = "az1";
  a.attempted_pools = {"x@y#z", "h@b#p"};
  a.last_error = "boom";
  auto back = RoundTrip(a);
  EXPECT_EQ(back.availability_zone, a.availability_zone);
  EXPECT_EQ(back.attempted_pools, a.attempted_pools);
  EXPECT_EQ(back.last_error, a.last_error);
  EXPECT_FALSE(back.resource_backend);
  // Nothing to say: what the api always wrote.
  EXPECT_EQ(ScheduleCreateVolume{}.ToJson().dump(), "{}");
}

TEST(TaskProtocolTest, VolumeBackendKindsReadEarlierRows) {
  auto create = Parse<CreateVolume>(R"({"attempted_pools":[]})");
  ASSERT_TRUE(create.ok());
  EXPECT_TRUE(create->attempted_pools.empty());
  EXPECT_EQ(RoundTrip(CreateVolume{.attempted_pools = {"a@b#c"}}).attempted_pools,
            std::vector<std::string>{"a@b#c"});

  EXPECT_TRUE(Parse<DeleteVolume>("{}").ok());
  EXPECT_EQ(Parse<ScheduleExtendVolume>(R"({"new_size":5})")->new_size, 5);
  EXPECT_EQ(Parse<ExtendVolume>(R"({"new_size":5})")->new_size, 5);
  EXPECT_EQ(RoundTrip(ExtendVolume{.new_size = 9}).new_size, 9);

  EXPECT_EQ(Parse<ExportAttachment>(R"({"attachment_id":"a1"})")->attachment_id, "a1");
  auto unexport = Parse<UnexportAttachment>(R"({"attachment_id":"a1","delete_row":false})");
  ASSERT_TRUE(unexport.ok());
  EXPECT_EQ(unexport->attachment_id, "a1");
  EXPECT_FALSE(unexport->delete_row);
  EXPECT_TRUE(Parse<UnexportAttachment>(R"({"attachment_id":"a1"})")->delete_row);
  auto u = RoundTrip(UnexportAttachment{.attachment_id = "a2", .delete_row = false});
  EXPECT_EQ(u.attachment_id, "a2");
  EXPECT_FALSE(u.delete_row);

  EXPECT_EQ(Parse<CreateSnapshot>(R"({"snapshot_id":"s1"})")->snapshot_id, "s1");
  EXPECT_EQ(Parse<DeleteSnapshot>(R"({"snapshot_id":"s1"})")->snapshot_id, "s1");
  EXPECT_EQ(Parse<RevertToSnapshot>(R"({"snapshot_id":"s1"})")->snapshot_id, "s1");
  EXPECT_EQ(RoundTrip(RevertToSnapshot{.snapshot_id = "s2"}).snapshot_id, "s2");
}

TEST(TaskProtocolTest, BackupKindsReadEarlierRows) {
  for (const char* text : {"{}", R"({"ignored":1})"}) {
    EXPECT_TRUE(Parse<CreateBackup>(text).ok());
    EXPECT_TRUE(Parse<DeleteBackup>(text).ok());
    EXPECT_TRUE(Parse<VerifyBackup>(text).ok());
    EXPECT_TRUE(Parse<ImportBackup>(text).ok());
  }
  auto restore = Parse<RestoreBackup>(R"({"volume_id":"v1","new_volume":false})");
  ASSERT_TRUE(restore.ok());
  EXPECT_EQ(restore->volume_id, "v1");
  EXPECT_FALSE(restore->new_volume);
  auto later = Parse<RestoreBackupWhenCreated>(R"({"volume_id":"v2","new_volume":true})");
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->volume_id, "v2");
  EXPECT_TRUE(later->new_volume);
  auto r = RoundTrip(RestoreBackup{.volume_id = "v3", .new_volume = true});
  EXPECT_EQ(r.volume_id, "v3");
  EXPECT_TRUE(r.new_volume);
}

TEST(TaskProtocolTest, MalformedArgsAreInvalidArgumentNamingKindAndField) {
  auto not_object = Parse<ExtendVolume>("[1]");
  ASSERT_EQ(not_object.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(not_object.status().message(), "extend_volume task 7: args are not a JSON object");
  EXPECT_EQ(Parse<ExtendVolume>("not json").status().code(), StatusCode::kInvalidArgument);

  auto missing = Parse<ExtendVolume>("{}");
  ASSERT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(), "extend_volume task 7: 'new_size' must be an integer");
  EXPECT_FALSE(Parse<ExtendVolume>(R"({"new_size":"5"})").ok());
  EXPECT_FALSE(Parse<ScheduleExtendVolume>(R"({"new_size":1.5})").ok());
  EXPECT_FALSE(Parse<CreateSnapshot>(R"({"snapshot_id":5})").ok());
  EXPECT_FALSE(Parse<ExportAttachment>("{}").ok());
  EXPECT_FALSE(Parse<UnexportAttachment>(R"({"attachment_id":"a","delete_row":"no"})").ok());
  EXPECT_FALSE(Parse<RestoreBackup>(R"({"new_volume":true})").ok());
  EXPECT_FALSE(Parse<RestoreBackup>(R"({"volume_id":"v","new_volume":1})").ok());
  EXPECT_FALSE(Parse<ScheduleCreateVolume>(R"({"attempted_pools":"h@b#p"})").ok());
  EXPECT_FALSE(Parse<ScheduleCreateVolume>(R"({"attempted_pools":[1]})").ok());
  EXPECT_FALSE(Parse<ScheduleCreateVolume>(R"({"availability_zone":3})").ok());
  EXPECT_FALSE(Parse<CreateBackup>("7").ok());
}

TEST(TaskProtocolTest, KindsAreDistinct) {
  const std::vector<std::string> kinds = {
      ScheduleCreateVolume::kKind, ScheduleExtendVolume::kKind, CreateVolume::kKind,
      DeleteVolume::kKind,         ExtendVolume::kKind,         ExportAttachment::kKind,
      UnexportAttachment::kKind,   CreateSnapshot::kKind,       DeleteSnapshot::kKind,
      RevertToSnapshot::kKind,     CreateBackup::kKind,         RestoreBackup::kKind,
      RestoreBackupWhenCreated::kKind, DeleteBackup::kKind,     VerifyBackup::kKind,
      ImportBackup::kKind};
  std::set<std::string> unique(kinds.begin(), kinds.end());
  EXPECT_EQ(unique.size(), kinds.size());
}

}  // namespace
}  // namespace scoria::tasks
