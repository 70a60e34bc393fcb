#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/clock.h"
#include "db/database.h"
#include "db/messages_repo.h"
#include "db/migrations.h"
#include "db/services_repo.h"
#include "db/tasks_repo.h"
#include "db/types_repo.h"
#include "db/volumes_repo.h"
#include "test_databases.h"

namespace scoria::db {
namespace {

class DbTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing::OpenTestDatabase(GetParam());
    ASSERT_NE(db_, nullptr);
  }
  std::unique_ptr<Transaction> Tx() { return std::move(db_->Begin(true).value()); }

  VolumeRecord Vol(const std::string& id, int64_t created, int64_t size = 1) {
    VolumeRecord v;
    v.id = id;
    v.project_id = "p1";
    v.user_id = "u1";
    v.size = size;
    v.status = "available";
    v.availability_zone = "nova";
    v.volume_type_id = "t";
    v.created_at = created;
    return v;
  }
  std::unique_ptr<Database> db_;
};

TEST_P(DbTest, MigrateIsIdempotentAndVersioned) {
  EXPECT_TRUE(db_->Migrate().ok());
  int max_version = 0;
  std::set<int> versions;
  for (const Migration& m : Migrations()) {
    EXPECT_TRUE(versions.insert(m.version).second) << "duplicate migration " << m.version;
    max_version = std::max(max_version, m.version);
  }
  EXPECT_EQ(db_->SchemaVersion(), max_version);
  auto tx = Tx();
  auto rows = tx->Query("SELECT COUNT(*) FROM schema_version");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), static_cast<int64_t>(versions.size()));
}

TEST_P(DbTest, RejectsBadConnectionStrings) {
  EXPECT_EQ(OpenDatabase("sqlite:///relative.db").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenDatabase("mysql://x").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(DbTest, VolumeRoundTripAndMetadata) {
  auto tx = Tx();
  VolumeRecord v = Vol("v1", 10);
  v.name = "db1";
  v.metadata = {{"a", "1"}, {"b", "2"}};
  ASSERT_TRUE(InsertVolume(*tx, v).ok());
  auto got = GetVolume(*tx, "v1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "db1");
  EXPECT_EQ(got->metadata.size(), 2u);
  ASSERT_TRUE(MergeVolumeMetadata(*tx, "v1", {{"a", "9"}}).ok());
  EXPECT_EQ(GetVolume(*tx, "v1")->metadata.at("a"), "9");
  EXPECT_EQ(DeleteVolumeMetadataKey(*tx, "v1", "zz").code(), StatusCode::kNotFound);
  EXPECT_EQ(GetVolume(*tx, "nope").status().code(), StatusCode::kNotFound);
  got->status = "error";
  ASSERT_TRUE(UpdateVolume(*tx, *got).ok());
  EXPECT_EQ(GetVolume(*tx, "v1")->status, "error");
  ASSERT_TRUE(DeleteVolume(*tx, "v1").ok());
  EXPECT_EQ(GetVolume(*tx, "v1").status().code(), StatusCode::kNotFound);
}

TEST_P(DbTest, QueryAllReturnsEachStatementsRowsInOrderOrTheFirstError) {
  {
    auto tx = Tx();
    VolumeRecord a = Vol("a", 1), b = Vol("b", 2);
    a.metadata = {{"k", "v"}};
    ASSERT_TRUE(InsertVolume(*tx, a).ok());
    ASSERT_TRUE(InsertVolume(*tx, b).ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  // A read transaction whose first statements are a batch (on PostgreSQL: BEGIN, the PREPAREs
  // and the queries in one pipeline), then a batch of prepared statements, then a plain query.
  for (int round = 0; round < 2; ++round) {
    auto tx = std::move(db_->Begin(false).value());
    std::vector<VolumeRecord> vols(2);
    vols[0].id = "a";
    vols[1].id = "b";
    auto batch = tx->QueryAll({VolumeMetadataQuery(vols), TypeNamesQuery(),
                               {"SELECT id, size FROM volumes WHERE id = ? OR id = ? ORDER BY id",
                                {std::string("b"), std::string("a")}},
                               VolumeMetadataQuery({})});
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    ASSERT_EQ(batch->size(), 4u);
    AddVolumeMetadata((*batch)[0], vols);
    EXPECT_EQ(vols[0].metadata, (std::map<std::string, std::string>{{"k", "v"}}));
    EXPECT_TRUE(vols[1].metadata.empty());
    ASSERT_EQ((*batch)[2].size(), 2u);
    EXPECT_EQ((*batch)[2][0].Str(0), "a");
    EXPECT_EQ((*batch)[2][1].Int(1), 1);
    EXPECT_TRUE((*batch)[3].empty());
    auto again = tx->Query("SELECT COUNT(*) FROM volumes");
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ((*again)[0].Int(0), 2);
    EXPECT_TRUE(tx->Commit().ok());
  }
  // An error in the middle: the batch fails with it, and the transaction is not committed.
  auto tx = Tx();
  auto bad = tx->QueryAll({{"SELECT id FROM volumes", {}}, {"SELECT nonsense FROM volumes", {}},
                           {"SELECT id FROM volumes", {}}});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("nonsense"), std::string::npos) << bad.status().ToString();
}

TEST_P(DbTest, PaginationWithMarkerVisitsEveryRowOnce) {
  auto tx = Tx();
  // Equal created_at values force the id tiebreaker.
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(InsertVolume(*tx, Vol("v" + std::to_string(100 + i), i / 3, i % 4)).ok());
  }
  for (bool desc : {true, false}) {
    for (const char* key : {"created_at", "size", "name"}) {
      VolumePage page;
      page.sort = {{key, desc}};
      page.limit = 4;
      std::set<std::string> seen;
      for (int guard = 0; guard < 20; ++guard) {
        auto rows = ListVolumes(*tx, {}, page);
        ASSERT_TRUE(rows.ok()) << rows.status().ToString();
        for (auto& r : *rows) EXPECT_TRUE(seen.insert(r.id).second) << key << " " << r.id;
        if (rows->size() < 4) break;
        page.marker = rows->back().id;
      }
      EXPECT_EQ(seen.size(), 25u) << key << " desc=" << desc;
    }
  }
  VolumePage bad;
  bad.marker = "missing";
  EXPECT_EQ(ListVolumes(*tx, {}, bad).status().code(), StatusCode::kNotFound);
}

TEST_P(DbTest, FiltersScopeAndLike) {
  auto tx = Tx();
  VolumeRecord a = Vol("a", 1), b = Vol("b", 2);
  a.name = "alpha_1";
  b.name = "beta";
  b.project_id = "p2";
  ASSERT_TRUE(InsertVolume(*tx, a).ok());
  ASSERT_TRUE(InsertVolume(*tx, b).ok());
  VolumeFilter f;
  f.project_id = "p2";
  EXPECT_EQ(*CountVolumes(*tx, f), 1);
  VolumeFilter like;
  like.like["name"] = "a_";  // '_' is literal, not a wildcard
  EXPECT_EQ(*CountVolumes(*tx, like), 1);
  VolumeFilter bad;
  bad.equals["nope; DROP TABLE volumes"] = "x";
  EXPECT_EQ(CountVolumes(*tx, bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(DbTest, TasksRunInOrderPerResourceAndLeasesExpire) {
  {
    auto tx = Tx();
    ASSERT_TRUE(EnqueueTask(*tx, "create_volume", "h@b", "v1", "{}").ok());
    ASSERT_TRUE(EnqueueTask(*tx, "delete_volume", "h@b", "v1", "{}").ok());
    ASSERT_TRUE(EnqueueTask(*tx, "create_volume", "h@b", "v2", "{}").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto tx = Tx();
  auto t1 = ClaimTask(*tx, {"h@b"}, "w1", 60'000'000);
  ASSERT_TRUE(t1.ok() && t1->has_value());
  EXPECT_EQ((*t1)->resource_id, "v1");
  EXPECT_EQ((*t1)->kind, "create_volume");
  // v1's delete waits for v1's create; v2 is free.
  auto t2 = ClaimTask(*tx, {"h@b"}, "w2", 60'000'000);
  ASSERT_TRUE(t2.ok() && t2->has_value());
  EXPECT_EQ((*t2)->resource_id, "v2");
  auto none = ClaimTask(*tx, {"h@b"}, "w3", 60'000'000);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  // Wrong owner cannot finish; the right one can, which unblocks the delete.
  EXPECT_EQ(FinishTask(*tx, (*t1)->id, "w9").code(), StatusCode::kConflict);
  ASSERT_TRUE(FinishTask(*tx, (*t1)->id, "w1").ok());
  auto t3 = ClaimTask(*tx, {"h@b"}, "w1", -1);  // lease already expired
  ASSERT_TRUE(t3->has_value());
  EXPECT_EQ((*t3)->kind, "delete_volume");
  auto again = ClaimTask(*tx, {"h@b"}, "w4", 60'000'000);
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->id, (*t3)->id) << "an expired lease makes the task claimable again";
  EXPECT_EQ((*again)->attempts, 2);
  // A previous incarnation's leases are released at start.
  EXPECT_EQ(*ReleaseLeasesOf(*tx, "w4"), 1);
  EXPECT_EQ(*ReleaseLeasesOf(*tx, "w2"), 1);
}

TEST_P(DbTest, TypesAndServices) {
  auto tx = Tx();
  auto t = EnsureType(*tx, "__DEFAULT__", "Default Volume Type");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(EnsureType(*tx, "__DEFAULT__", "x")->id, t->id);
  VolumeTypeRecord dup = *t;
  dup.id = "other";
  EXPECT_EQ(InsertType(*tx, dup).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(FindType(*tx, "__DEFAULT__")->id, t->id);
  EXPECT_EQ(FindType(*tx, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*GetTypeName(*tx, t->id), "__DEFAULT__");
  EXPECT_EQ(GetTypeName(*tx, "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(TypeNames(*tx)->at(t->id), "__DEFAULT__");
  ASSERT_TRUE(Heartbeat(*tx, "h@b", kVolumeBinary, "nova", std::string("{}")).ok());
  ASSERT_TRUE(Heartbeat(*tx, "h@b", kVolumeBinary, "nova", std::nullopt).ok());
  auto s = ListServices(*tx, std::nullopt, std::nullopt);
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ((*s)[0].report_count, 2);
  EXPECT_EQ((*s)[0].capabilities, "{}");
  EXPECT_EQ(SetServiceDisabled(*tx, "x", kVolumeBinary, true, std::nullopt).code(),
            StatusCode::kNotFound);
}

TEST_P(DbTest, FreezeFlagAndServiceRemoval) {
  auto tx = Tx();
  ASSERT_TRUE(Heartbeat(*tx, "n@b", kVolumeBinary, "nova", std::nullopt).ok());
  ASSERT_TRUE(Heartbeat(*tx, "n", kSchedulerBinary, "nova", std::nullopt).ok());
  EXPECT_FALSE(IsBackendFrozen(*tx, "n@b#pool").value());
  ASSERT_TRUE(SetServiceFrozen(*tx, "n@b", kVolumeBinary, true, true, "frozen").ok());
  auto s = ListServices(*tx, "n@b", std::nullopt).value();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].frozen && s[0].disabled);
  EXPECT_EQ(s[0].disabled_reason, "frozen");
  EXPECT_TRUE(IsBackendFrozen(*tx, "n@b#pool").value());
  EXPECT_TRUE(IsBackendFrozen(*tx, "n@b").value());
  EXPECT_FALSE(IsBackendFrozen(*tx, "n@other#pool").value());
  // A heartbeat keeps the flag: only thaw clears it.
  ASSERT_TRUE(Heartbeat(*tx, "n@b", kVolumeBinary, "nova", std::nullopt).ok());
  EXPECT_TRUE(IsBackendFrozen(*tx, "n@b").value());
  EXPECT_EQ(SetServiceFrozen(*tx, "x@y", kVolumeBinary, true, true, "frozen").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(DeleteService(*tx, "n@b", kBackupBinary).code(), StatusCode::kNotFound);
  ASSERT_TRUE(DeleteService(*tx, "n@b", kVolumeBinary).ok());
  EXPECT_TRUE(ListServices(*tx, "n@b", std::nullopt).value().empty());
  EXPECT_FALSE(IsBackendFrozen(*tx, "n@b").value());
}

TEST_P(DbTest, UsagePerProjectOnOneBackend) {
  auto tx = Tx();
  auto add = [&](const std::string& id, const std::string& project, const std::string& host,
                 int64_t size) {
    VolumeRecord v = Vol(id, 1, size);
    v.project_id = project;
    v.host = host;
    ASSERT_TRUE(InsertVolume(*tx, v).ok());
  };
  add("v1", "p1", "n@b#a", 2);
  add("v2", "p1", "n@b", 3);
  add("v3", "p2", "n@b#c", 4);
  add("v4", "p2", "n@bb#a", 8);  // another backend sharing the prefix
  add("v5", "p3", "nxb#a", 16);  // LIKE 'n_b#%' would match it
  auto vols = ProjectUsageOnBackend(*tx, "n@b").value();
  ASSERT_EQ(vols.size(), 2u);
  EXPECT_EQ(vols["p1"].volumes, 2);
  EXPECT_EQ(vols["p1"].gigabytes, 5);
  EXPECT_EQ(vols["p2"].volumes, 1);
  EXPECT_EQ(vols["p2"].gigabytes, 4);
  EXPECT_TRUE(ProjectUsageOnBackend(*tx, "n_b").value().empty());
  EXPECT_TRUE(HostOnBackend("n@b#a", "n@b"));
  EXPECT_TRUE(HostOnBackend("n@b", "n@b"));
  EXPECT_FALSE(HostOnBackend("n@bb#a", "n@b"));
  EXPECT_FALSE(HostOnBackend("n@", "n@b"));
}

// Wake-ups are per target: a task for one backend must not make every worker claim.
TEST_P(DbTest, WakeUpsReachOnlyTheirTargets) {
  const std::vector<std::string> a = {"h@a"}, b = {"h@b"};
  uint64_t sa = db_->TaskSequence(a), sb = db_->TaskSequence(b);
  db_->NotifyTasks(a);
  EXPECT_NE(db_->TaskSequence(a), sa);
  EXPECT_EQ(db_->TaskSequence(b), sb);
  sa = db_->TaskSequence(a);
  db_->NotifyTasks();  // everyone
  EXPECT_NE(db_->TaskSequence(a), sa);
  EXPECT_NE(db_->TaskSequence(b), sb);
}

// Enqueueing wakes the task's target when the transaction commits, not before, and not at all
// when it rolls back; finishing a task wakes the target of the next task of its resource.
TEST_P(DbTest, CommitsWakeTheTargetsOfTheirTasks) {
  const std::vector<std::string> a = {"h@a"}, b = {"h@b"};
  uint64_t sa = db_->TaskSequence(a), sb = db_->TaskSequence(b);
  {
    auto tx = Tx();
    ASSERT_TRUE(EnqueueTask(*tx, "k", "h@a", "r1", "{}").ok());
    ASSERT_TRUE(EnqueueTask(*tx, "k", "h@b", "r1", "{}").ok());  // behind the first: same resource
    EXPECT_EQ(db_->TaskSequence(a), sa);                         // not yet committed
    ASSERT_TRUE(tx->Commit().ok());
  }
  EXPECT_NE(db_->TaskSequence(a), sa);
  EXPECT_NE(db_->TaskSequence(b), sb);
  {
    auto tx = Tx();
    ASSERT_TRUE(EnqueueTask(*tx, "k", "h@a", "r2", "{}").ok());
    sa = db_->TaskSequence(a);
  }  // rolled back
  EXPECT_EQ(db_->TaskSequence(a), sa);

  std::optional<Task> first;
  ASSERT_TRUE(InWriteTransaction(*db_, [&](Transaction& tx) {
                ASSIGN_OR_RETURN(first, ClaimTask(tx, a, "w", 60'000'000));
                return Status::Ok();
              }).ok());
  ASSERT_TRUE(first.has_value());
  sa = db_->TaskSequence(a);
  sb = db_->TaskSequence(b);
  ASSERT_TRUE(InWriteTransaction(*db_, [&](Transaction& tx) {
                return FinishTask(tx, first->id, "w");
              }).ok());
  EXPECT_NE(db_->TaskSequence(b), sb);  // r1's next task, on h@b, may run now
  EXPECT_EQ(db_->TaskSequence(a), sa);  // nothing left for h@a
}

SCORIA_ON_EVERY_DATABASE(DbTest);

TEST(ServiceIsUpTest, UpWhileTheHeartbeatIsAtMostServiceDownTimeOld) {
  const int64_t s = 1'000'000;
  ServiceRecord svc;
  EXPECT_FALSE(ServiceIsUp(svc, 1000 * s, 60));  // never heartbeated, created long ago
  svc.updated_at = 1000 * s;
  EXPECT_TRUE(ServiceIsUp(svc, 1060 * s, 60));
  EXPECT_FALSE(ServiceIsUp(svc, 1060 * s + 1, 60));
  // A database outage that ended at 1050 s: the heartbeat counts from then.
  EXPECT_TRUE(ServiceIsUp(svc, 1100 * s, 60, 1050 * s));
  EXPECT_FALSE(ServiceIsUp(svc, 1111 * s, 60, 1050 * s));
  // An outage before the heartbeat changes nothing.
  EXPECT_FALSE(ServiceIsUp(svc, 1061 * s, 60, 900 * s));
  svc.disabled = true;  // disabled is not the heartbeat's business
  EXPECT_TRUE(ServiceIsUp(svc, 1001 * s, 60));
}

}  // namespace
}  // namespace scoria::db
