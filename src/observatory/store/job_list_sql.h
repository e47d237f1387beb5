// The job queries both stores answer with the same SQL: the jobs table's
// columns, the caller's Scope as a clause, and a page of the job list.
// Each store runs the SQL and reads the rows its own way.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "observatory/access/scope.h"
#include "observatory/store/span_store.h"
#include "observatory/store/sql_where.h"
#include "util/status.h"

namespace backspan::observatory {

inline constexpr int64_t kHourNs = 3'600'000'000'000;
inline constexpr int64_t kDayNs = 24 * kHourNs;

// tags.id of KEY=VALUE in the store, or 0 if no job ever had it.
using TagIdLookup = std::function<Result<int64_t>(const Tag&)>;

// The jobs table's columns, each prefixed with `alias` (e.g. "j."), in the
// order the stores' ReadJob expects them.
std::string JobColumns(const std::string& alias = "");

// Adds the scope as SQL over jobs aliased `j` (and job_tags); false if
// nothing can match (or on error, then set in `error`).
bool AddScopeClause(const Scope& scope, const TagIdLookup& find_tag, Where& where, Status* error);

// A page of the job list as one SELECT of JobColumns("j.").
struct JobListSql {
  std::string sql;  // empty: nothing can match
  Where where;
  int limit = 0;    // the page's size; the SELECT asks for one more
  int64_t lost_before_ns = INT64_MIN;
};
// `lost_before_ns`: a running job last updated before it is lost.
Result<JobListSql> BuildJobListSql(const JobQuery& q, const Scope& scope, int64_t lost_before_ns,
                                   const TagIdLookup& find_tag, SqlDialect dialect);
// Adds a row the SELECT returned to `page`; false once the page is full
// (page.more is then set).
bool AddListedJob(const JobListSql& list, JobRow row, JobPage* page);

// When a running job last updated before now is lost (INT64_MIN: never).
int64_t LostBefore(int64_t now_ns, int64_t lost_after_ns);

}  // namespace backspan::observatory
