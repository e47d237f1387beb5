// The libpq layer (storage/postgres.h) against a real PostgreSQL server
// started for the test: parameters (NULL, binary), results, how errors
// map to Status, passwords kept out of messages, and a server that went
// away and came back.
#include <gtest/gtest.h>

#include "postgres_server.h"
#include "storage/postgres.h"

namespace backspan::pg {
namespace {

class PostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testing::PostgresServer;
    ASSERT_TRUE(server_->Start()) << server_->error();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static testing::PostgresServer* server_;
};
testing::PostgresServer* PostgresTest::server_ = nullptr;

TEST_F(PostgresTest, BindsParametersAndReadsRowsBack) {
  auto c = Connection::Open(server_->uri());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_GE(c->ServerVersion(), 150000);
  ASSERT_TRUE(c->Exec("CREATE TABLE t (id bigint PRIMARY KEY, name text, body bytea, x double precision)").ok());
  const std::string binary("a\0b\xff\n", 5);
  auto ins = c->Query("INSERT INTO t VALUES ($1, $2, $3, $4), ($5, NULL, NULL, NULL)",
                      {"1", "héllo", ByteaHex(binary), "0.25", "-9223372036854775808"});
  ASSERT_TRUE(ins.ok()) << ins.status().message();
  EXPECT_EQ(ins->Affected(), 2);
  auto rows = c->Query("SELECT id, name, body, x FROM t ORDER BY id");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2);
  EXPECT_EQ(rows->Int(0, 0), INT64_MIN);
  EXPECT_TRUE(rows->IsNull(0, 1));
  EXPECT_EQ(rows->Int(1, 0), 1);
  EXPECT_EQ(rows->Text(1, 1), "héllo");
  EXPECT_EQ(rows->Bytes(1, 2), binary);
  EXPECT_DOUBLE_EQ(rows->Double(1, 3), 0.25);
  EXPECT_EQ(*c->QueryInt("SELECT count(*) FROM t WHERE name = $1", {std::nullopt}), 0);
  EXPECT_EQ(*c->QueryInt("SELECT count(*) FROM t"), 2);
  EXPECT_EQ(c->QueryInt("SELECT id FROM t WHERE false").status().code(), ErrorCode::kNotFound);
}

TEST_F(PostgresTest, MapsErrorsToStatus) {
  auto c = Connection::Open(server_->uri());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->Exec("CREATE TABLE u (id int PRIMARY KEY)").ok());
  ASSERT_TRUE(c->Query("INSERT INTO u VALUES ($1)", {"1"}).ok());
  auto dup = c->Query("INSERT INTO u VALUES ($1)", {"1"});
  EXPECT_EQ(dup.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(dup.status().message().find("23505"), std::string::npos);
  EXPECT_EQ(c->Query("INSERT INTO u VALUES ($1)", {"x"}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(c->Exec("SELEC 1").code(), ErrorCode::kInternal);
  // A failed statement leaves the connection usable.
  EXPECT_TRUE(c->QueryInt("SELECT 1").ok());
}

TEST_F(PostgresTest, ConnectionFailuresAreRetryableAndHideThePassword) {
  auto bad = Connection::Open("postgresql://postgres:hunter2@127.0.0.1:1/postgres?connect_timeout=2");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kIOError);  // 503 at the API
  EXPECT_EQ(bad.status().message().find("hunter2"), std::string::npos) << bad.status().message();
  EXPECT_EQ(Connection::Open("postgresql://h/db?nosuchoption=1").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(RedactUri("postgresql://u:pw@h/db?password=x&sslmode=require"),
            "postgresql://u:***@h/db?password=***&sslmode=require");
  EXPECT_EQ(RedactUri("host=h password=secret user=u"), "host=h password=*** user=u");
}

TEST_F(PostgresTest, AServerThatWentAwayIsAnIOErrorAndANewConnectionWorks) {
  auto c = Connection::Open(server_->uri());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(server_->Restart()) << server_->error();
  auto lost = c->QueryInt("SELECT 1");
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), ErrorCode::kIOError) << lost.status().message();
  EXPECT_FALSE(c->ok());
  auto again = Connection::Open(server_->uri());
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*again->QueryInt("SELECT 41 + 1"), 42);
}

}  // namespace
}  // namespace backspan::pg
