// The observatory's store for tests, of either kind: SQLite in a temporary
// directory, or PostgreSQL in a fresh database of a real server that the
// test binary starts on first use (tests/unit/postgres_server.h) and stops
// at exit. Store tests run as TEST_P over both kinds.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "env/env.h"
#include "observatory/store/span_store.h"

namespace backspan::testing {

enum class StoreKind { kSqlite, kPostgres };

// "sqlite" or "postgres", for test names.
std::string StoreKindName(StoreKind kind);
inline std::string StoreTestName(const ::testing::TestParamInfo<StoreKind>& p) { return StoreKindName(p.param); }

// INSTANTIATE_TEST_SUITE_P(Stores, Suite, BOTH_STORES) runs Suite on each store.
#define BOTH_STORES                                                                                     \
  ::testing::Values(::backspan::testing::StoreKind::kSqlite, ::backspan::testing::StoreKind::kPostgres), \
      ::backspan::testing::StoreTestName

// A new, empty store of `kind` with `options` (dir or uri filled in);
// SQLite's lives under `dir`. Fails the test (and returns null) if it
// cannot be opened.
std::unique_ptr<observatory::SpanStore> OpenTestStore(StoreKind kind, observatory::StoreOptions options,
                                                      const std::string& dir);

// Opens the same store again (after the test reset it): the options of the
// last OpenTestStore.
std::unique_ptr<observatory::SpanStore> ReopenTestStore();

}  // namespace backspan::testing
