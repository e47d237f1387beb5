// Trends as both stores answer them: a metric per time bucket, one series
// per value of a tag. Answered from the per-hour (or, for whole-day
// buckets, per-day) rollups, which are kept per resource group so that a
// scope of resource groups still uses them; a scope with tag selectors
// falls back to reading the jobs themselves. The builder writes the SQL and
// sums the rows; each store runs the SQL and hands the rows over.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "observatory/store/duration_histogram.h"
#include "observatory/store/job_list_sql.h"
#include "observatory/store/span_store.h"

namespace backspan::observatory {

class TrendBuilder {
 public:
  // InvalidArgument for a bucket that is not whole hours, an empty range or
  // too many buckets.
  static Result<TrendBuilder> Start(const TrendQuery& q);

  // What to read. from_rollups: columns (start, tag_value, jobs, ok,
  // partial, failed, duration_sum, bytes_added, bytes_total, hist); else
  // (start_ns, end_ns, status, bytes_added, bytes_total, tags). An empty
  // sql: nothing in the scope can match.
  struct Read {
    std::string sql;
    Where where;
    bool from_rollups = false;
  };
  Result<Read> Sql(const Scope& scope, const TagIdLookup& find_tag, SqlDialect dialect) const;

  struct RollupRow {
    int64_t start = 0;
    std::string group;
    int64_t jobs = 0, ok = 0, partial = 0, failed = 0, bytes_added = 0, bytes_total = 0;
    double duration_sum = 0;
    std::string_view hist;  // DurationHistogram::Encode
  };
  void AddRollup(const RollupRow& row);
  void AddJob(int64_t start_ns, int64_t end_ns, std::string_view status, int64_t bytes_added, int64_t bytes_total,
              const std::string& tags_json);

  // The busiest groups' series (at most 20).
  Trend Finish() const;

 private:
  struct Cell {
    int64_t jobs = 0, ok = 0, partial = 0, failed = 0, bytes_added = 0, bytes_total = 0;
    double duration_sum = 0;
    DurationHistogram durations;
  };
  explicit TrendBuilder(const TrendQuery& q, int64_t first, size_t n) : q_(q), first_(first), n_(n) {}
  Cell* CellAt(const std::string& group, int64_t t);

  TrendQuery q_;
  int64_t first_ = 0;
  size_t n_ = 0;
  std::map<std::string, std::vector<Cell>> groups_;
};

}  // namespace backspan::observatory
