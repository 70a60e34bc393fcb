// What only PostgreSQL has to get right: several processes (here: several Database handles,
// each its own pool and listener) on one database, claims without the write lock, wake-ups
// through LISTEN/NOTIFY, errors mapped to Scoria's codes. Skipped without a test server.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "db/database.h"
#include "db/tasks_repo.h"
#include "test_databases.h"

namespace scoria::db {
namespace {

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::PostgresServer()) GTEST_SKIP() << "SCORIA_TEST_POSTGRES is not set";
    url_ = testing::FreshPostgresUrl();
    a_ = Open();
    b_ = Open();
    ASSERT_TRUE(a_ && b_);
    ASSERT_TRUE(a_->Migrate().ok());
    ASSERT_TRUE(b_->Migrate().ok());  // a second process finds it done
  }
  std::unique_ptr<Database> Open() {
    auto db = OpenDatabase(url_);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(*db) : nullptr;
  }
  std::string url_;
  std::unique_ptr<Database> a_, b_;  // two "hosts"
};

TEST_F(PostgresTest, ANotifyOnOneHandleWakesAnother) {
  const std::vector<std::string> all;
  const uint64_t seen = b_->TaskSequence(all);
  a_->NotifyTasks();
  // The wait ends on the notification; the long timeout only bounds a failure.
  b_->WaitForTasks(all, seen, std::chrono::seconds(60));
  EXPECT_NE(b_->TaskSequence(all), seen);
}

// A commit that enqueues a task for h@x wakes h@x's workers in the other process (the NOTIFY
// is sent inside the transaction and names its targets), and no one else's.
TEST_F(PostgresTest, ACommitOnOneHandleWakesTheTaskTargetOnAnother) {
  const std::vector<std::string> x = {"h@x"}, y = {"h@y"};
  const uint64_t sx = b_->TaskSequence(x), sy = b_->TaskSequence(y);
  ASSERT_TRUE(InWriteTransaction(*a_, [&](Transaction& tx) {
                return EnqueueTask(tx, "k", "h@x", "r", "{}").status();
              }).ok());
  b_->WaitForTasks(x, sx, std::chrono::seconds(60));
  EXPECT_NE(b_->TaskSequence(x), sx);
  EXPECT_EQ(b_->TaskSequence(y), sy);
}

TEST_F(PostgresTest, ConcurrentClaimsFromTwoHandlesTakeEachTaskOnce) {
  constexpr int kTasks = 200;
  ASSERT_TRUE(InWriteTransaction(*a_, [&](Transaction& tx) {
                for (int i = 0; i < kTasks; ++i) {
                  RETURN_IF_ERROR(EnqueueTask(tx, "k", "h@b", "r" + std::to_string(i), "{}").status());
                }
                return Status::Ok();
              }).ok());
  std::mutex mu;
  std::multiset<int64_t> claimed;
  std::atomic<int> failures{0};
  auto worker = [&](Database* db, std::string owner) {
    while (true) {
      std::optional<Task> t;
      Status st = InWriteTransaction(
          *db,
          [&](Transaction& tx) {
            ASSIGN_OR_RETURN(t, ClaimTask(tx, {"h@b"}, owner, 60'000'000));
            return Status::Ok();
          },
          Durability::kRelaxed, WriteScope::kRowsItLocks);
      if (!st.ok()) {
        ++failures;
        continue;
      }
      if (!t) return;
      std::lock_guard lock(mu);
      claimed.insert(t->id);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(worker, a_.get(), "a" + std::to_string(i));
    threads.emplace_back(worker, b_.get(), "b" + std::to_string(i));
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(), claimed.size())
      << "a task was claimed twice";
}

TEST_F(PostgresTest, WriteTransactionsAreSerialisedAcrossHandles) {
  ASSERT_TRUE(InWriteTransaction(*a_, [](Transaction& tx) {
                return tx.Exec("CREATE TABLE counter (n BIGINT NOT NULL)").status();
              }).ok());
  ASSERT_TRUE(InWriteTransaction(*a_, [](Transaction& tx) {
                return tx.Exec("INSERT INTO counter (n) VALUES (0)").status();
              }).ok());
  // Read, then write what was read plus one: under READ COMMITTED alone, increments would be
  // lost; the cluster-wide write lock makes it as safe as on SQLite.
  auto bump = [](Database* db) {
    for (int i = 0; i < 50; ++i) {
      Status st = InWriteTransaction(*db, [](Transaction& tx) {
        ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT n FROM counter"));
        return tx.Exec("UPDATE counter SET n = ?", {rows.at(0).Int(0) + 1}).status();
      });
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  };
  std::thread t1(bump, a_.get()), t2(bump, b_.get()), t3(bump, a_.get());
  t1.join();
  t2.join();
  t3.join();
  auto tx = a_->Begin(false);
  ASSERT_TRUE(tx.ok());
  auto rows = (*tx)->Query("SELECT n FROM counter");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->at(0).Int(0), 150);
}

TEST_F(PostgresTest, ErrorsMapToStatusCodes) {
  auto tx = a_->Begin(true);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->Exec("CREATE TABLE u (k TEXT PRIMARY KEY)").ok());
  ASSERT_TRUE((*tx)->Exec("INSERT INTO u (k) VALUES (?)", {std::string("x")}).ok());
  auto dup = (*tx)->Exec("INSERT INTO u (k) VALUES (?)", {std::string("x")});
  EXPECT_EQ(dup.status().code(), StatusCode::kConflict) << dup.status().ToString();
  tx->reset();  // rolled back

  auto bad = a_->Begin(false);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ((*bad)->Query("SELECT nothing FROM nowhere").status().code(), StatusCode::kInternal);
}

TEST_F(PostgresTest, ValuesRoundTripWithTheirTypes) {
  auto tx = a_->Begin(true);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->Exec("CREATE TABLE v (i BIGINT, d DOUBLE PRECISION, s TEXT, n TEXT)").ok());
  // A '?' inside a literal is not a placeholder.
  ASSERT_TRUE((*tx)->Exec("INSERT INTO v (i, d, s, n) VALUES (?, ?, ?, 'what?')",
                          {int64_t{-7}, 2.5, std::string("it's")})
                  .ok());
  auto rows = (*tx)->Query("SELECT i, d, s, n, i > 0, SUM(i) OVER () FROM v");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  const Row& r = rows->at(0);
  EXPECT_EQ(r.Int(0), -7);
  EXPECT_DOUBLE_EQ(r.Real(1), 2.5);
  EXPECT_EQ(r.Str(2), "it's");
  EXPECT_EQ(r.Str(3), "what?");
  EXPECT_EQ(r.Int(4), 0);   // a boolean reads as 0/1
  EXPECT_EQ(r.Int(5), -7);  // SUM over BIGINT is numeric on the server
}

TEST(PostgresOpenTest, UnreachableServerIsUnavailableAndHidesThePassword) {
  // Port 1 on loopback: nothing listens there.
  auto db = OpenDatabase("postgresql://scoria:s3cret@127.0.0.1:1/scoria");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(db.status().message().find("127.0.0.1"), std::string::npos) << db.status().message();
  EXPECT_EQ(db.status().message().find("s3cret"), std::string::npos) << db.status().message();
  // libpq's multi-line text arrives as one line (scoriad's start error is one line).
  EXPECT_EQ(db.status().message().find('\n'), std::string::npos) << db.status().message();
  EXPECT_NE(db.status().message().find("Connection refused Is the server running"),
            std::string::npos) << db.status().message();
}

}  // namespace
}  // namespace scoria::db
