#include "test_stores.h"

#include <gtest/gtest.h>

#include <atomic>

#include "observatory/store/postgres/postgres_span_store.h"
#include "observatory/store/sqlite/sqlite_span_store.h"
#include "postgres_server.h"
#include "storage/postgres.h"

namespace backspan::testing {
namespace {

struct LastOpened {
  StoreKind kind = StoreKind::kSqlite;
  observatory::StoreOptions options;
};
LastOpened& Last() {
  static LastOpened last;
  return last;
}

// The server every test of this binary shares; stopped at exit.
PostgresServer* SharedServer() {
  static PostgresServer* server = [] {
    auto* s = new PostgresServer();
    if (!s->Start()) ADD_FAILURE() << "cannot start PostgreSQL: " << s->error();
    std::atexit([] { delete SharedServer(); });
    return s;
  }();
  return server;
}

// postgresql://...:PORT/DB for a new, empty database.
std::string NewDatabase() {
  static std::atomic<int> next{0};
  PostgresServer* server = SharedServer();
  auto admin = pg::Connection::Open(server->uri());
  if (!admin.ok()) {
    ADD_FAILURE() << admin.status().message();
    return "";
  }
  const std::string name = "store_" + std::to_string(next++);
  Status s = admin->Exec("DROP DATABASE IF EXISTS " + name + "; ");
  if (s.ok()) s = admin->Exec("CREATE DATABASE " + name);
  if (!s.ok()) ADD_FAILURE() << s.message();
  std::string uri = server->uri();
  return uri.substr(0, uri.rfind('/') + 1) + name;
}

std::unique_ptr<observatory::SpanStore> Open(StoreKind kind, const observatory::StoreOptions& options) {
  auto s = kind == StoreKind::kSqlite ? observatory::SqliteSpanStore::Open(options, Env::Default())
                                      : observatory::PostgresSpanStore::Open(options, Env::Default());
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(*s) : nullptr;
}

}  // namespace

std::string StoreKindName(StoreKind kind) { return kind == StoreKind::kSqlite ? "sqlite" : "postgres"; }

std::unique_ptr<observatory::SpanStore> OpenTestStore(StoreKind kind, observatory::StoreOptions options,
                                                      const std::string& dir) {
  if (kind == StoreKind::kSqlite) options.dir = dir;
  else options.uri = NewDatabase();
  Last() = {kind, options};
  return Open(kind, options);
}

std::unique_ptr<observatory::SpanStore> ReopenTestStore() { return Open(Last().kind, Last().options); }

}  // namespace backspan::testing
