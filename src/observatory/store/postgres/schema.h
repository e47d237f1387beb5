// The PostgreSQL store's schema (docs/observatory.md, "PostgreSQL"): created
// and upgraded in place by `serve` itself, versioned in backspan_schema, and
// safe when several replicas start at once (each change runs under one
// advisory lock). Spans, jobs and their tags live in tables partitioned by
// day on their start time, so retention drops whole partitions.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "storage/postgres.h"
#include "util/status.h"

namespace backspan::observatory::postgres {

// The schema this build writes.
inline constexpr int kSchemaVersion = 2;

// The tables partitioned by day, on start_ns.
inline constexpr const char* kDailyTables[] = {"span_chunks", "jobs", "job_tags"};

// Brings the database to kSchemaVersion; a no-op when it is there.
// Unsupported if a newer backspan wrote it (nothing is changed then).
Status Migrate(pg::Connection& db);

// The version the database is at (0: none yet).
Result<int> SchemaVersion(pg::Connection& db);

// The UTC day holding `ns` (days since the epoch) and its bounds.
int64_t DayOf(int64_t ns);
int64_t DayStartNs(int64_t day);

// Makes sure each daily table has a partition for every day in `days`;
// cheap when they exist. Safe from several replicas. Not in a transaction.
Status EnsureDays(pg::Connection& db, const std::set<int64_t>& days);
// The same for every day in [first_day, last_day].
Status EnsureDays(pg::Connection& db, int64_t first_day, int64_t last_day);

// The days that have partitions, ascending.
Result<std::vector<int64_t>> StoredDays(pg::Connection& db);

// Drops the partitions of every day that ends at or before `cutoff_ns`
// (retention); returns how many days went.
Result<int64_t> DropDaysBefore(pg::Connection& db, int64_t cutoff_ns);

}  // namespace backspan::observatory::postgres
