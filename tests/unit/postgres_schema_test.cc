// The PostgreSQL store's schema against a real server: created once,
// upgraded in place, refused when newer, safe with several replicas
// migrating and adding days at once, and retention by dropping days.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "observatory/store/postgres/schema.h"
#include "postgres_server.h"

namespace backspan::observatory::postgres {
namespace {

class PostgresSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()) << server_.error(); }
  pg::Connection Connect() {
    auto c = pg::Connection::Open(server_.uri());
    EXPECT_TRUE(c.ok()) << c.status().message();
    return std::move(*c);
  }
  testing::PostgresServer server_;
};

TEST_F(PostgresSchemaTest, MigratesOnceEvenWithSeveralReplicasAtOnce) {
  std::vector<std::thread> replicas;
  std::vector<Status> results(4);
  for (size_t i = 0; i < results.size(); ++i)
    replicas.emplace_back([&, i] {
      auto c = pg::Connection::Open(server_.uri());
      results[i] = c.ok() ? Migrate(*c) : c.status();
    });
  for (auto& t : replicas) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.message();
  pg::Connection db = Connect();
  EXPECT_EQ(*SchemaVersion(db), kSchemaVersion);
  EXPECT_EQ(*db.QueryInt("SELECT count(*) FROM backspan_schema"), kSchemaVersion);
  EXPECT_TRUE(Migrate(db).ok());  // again: nothing to do
  EXPECT_EQ(*db.QueryInt("SELECT count(*) FROM backspan_schema"), kSchemaVersion);
}

TEST_F(PostgresSchemaTest, RefusesADatabaseANewerBackspanWrote) {
  pg::Connection db = Connect();
  ASSERT_TRUE(Migrate(db).ok());
  ASSERT_TRUE(db.Exec("INSERT INTO backspan_schema (version) VALUES (99)").ok());
  const Status s = Migrate(db);
  EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
  EXPECT_NE(s.message().find("version 99"), std::string::npos) << s.message();
}

TEST_F(PostgresSchemaTest, DaysArePartitionsThatRetentionDrops) {
  pg::Connection db = Connect();
  ASSERT_TRUE(Migrate(db).ok());
  const int64_t day = DayOf(1'767'225'600'000'000'000);  // 2026-01-01
  // Two replicas adding overlapping days at once.
  std::thread other([&] {
    auto c = pg::Connection::Open(server_.uri());
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(EnsureDays(*c, day, day + 4).ok());
  });
  EXPECT_TRUE(EnsureDays(db, day + 2, day + 6).ok());
  other.join();
  EXPECT_EQ(*StoredDays(db), (std::vector<int64_t>{day, day + 1, day + 2, day + 3, day + 4, day + 5, day + 6}));
  // A row lands in its day; one outside every day is refused by name.
  ASSERT_TRUE(db.Query("INSERT INTO jobs (trace_id, span_id, name, kind, status, host, service, resource_group, "
                       "start_ns, end_ns, bytes_added, bytes_total, files_total, error_type, error_message, snapshot_id, "
                       "source_key, source_paths, tags, updated_ns) VALUES ('\\x01', '\\x02', 'b', 'backup', 'ok', "
                       "'h', 's', 'rg', $1, $1, 0, 0, 0, '', '', '', '', '', '', 0)",
                       {std::to_string(DayStartNs(day + 1) + 5)})
                  .ok());
  EXPECT_EQ(*db.QueryInt("SELECT count(*) FROM jobs_d" + std::to_string(day + 1)), 1);
  auto outside = db.Query("INSERT INTO span_chunks (trace_id, start_ns, span_count, raw_length, body) "
                          "VALUES ('\\x01', $1, 1, 0, '\\x00')",
                          {std::to_string(DayStartNs(day + 30))});
  EXPECT_FALSE(outside.ok());
  EXPECT_NE(outside.status().message().find("no partition"), std::string::npos) << outside.status().message();
  // Retention: days that ended by the cutoff go whole.
  auto dropped = DropDaysBefore(db, DayStartNs(day + 2) + 1);
  ASSERT_TRUE(dropped.ok()) << dropped.status().message();
  EXPECT_EQ(*dropped, 2);
  EXPECT_EQ(StoredDays(db)->front(), day + 2);
  EXPECT_EQ(*db.QueryInt("SELECT count(*) FROM jobs"), 0);
  EXPECT_EQ(EnsureDays(db, -1, 0).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace backspan::observatory::postgres
