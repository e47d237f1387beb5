// Trends: a metric per time bucket, one series per value of a tag. Answered
// from the per-hour (or, for whole-day buckets, per-day) rollups, which are kept per resource group so that a
// scope of resource groups still uses them; a scope with tag selectors falls
// back to reading the jobs themselves.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "observatory/store/sqlite/sqlite_span_store_impl.h"

namespace backspan::observatory {
namespace {

struct Cell {
  int64_t jobs = 0, ok = 0, partial = 0, failed = 0, bytes_added = 0, bytes_total = 0;
  double duration_sum = 0;
  DurationHistogram durations;
};

constexpr size_t kMaxBuckets = 5000;
constexpr size_t kMaxSeries = 20;

double Value(TrendMetric m, const Cell& c) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  switch (m) {
    case TrendMetric::kDuration: return c.jobs ? c.duration_sum / static_cast<double>(c.jobs) : nan;
    case TrendMetric::kThroughput:
      return c.duration_sum > 0 ? static_cast<double>(c.bytes_total) / c.duration_sum : nan;
    case TrendMetric::kBytesAdded: return c.jobs ? static_cast<double>(c.bytes_added) : nan;
    case TrendMetric::kSuccessRate: return c.jobs ? static_cast<double>(c.ok) / static_cast<double>(c.jobs) : nan;
    case TrendMetric::kJobCount: return static_cast<double>(c.jobs);
    case TrendMetric::kFailures: return static_cast<double>(c.failed);
  }
  return nan;
}

}  // namespace

Result<Trend> SqliteSpanStore::GetTrend(const TrendQuery& q, const Scope& scope) {
  if (q.bucket_ns < kHourNs || q.bucket_ns % kHourNs != 0) return Status::InvalidArgument("the bucket must be whole hours");
  if (q.until_ns <= q.since_ns) return Status::InvalidArgument("the time range is empty");
  const int64_t first = q.since_ns / q.bucket_ns * q.bucket_ns;
  const auto n = static_cast<size_t>((q.until_ns - first + q.bucket_ns - 1) / q.bucket_ns);
  if (n > kMaxBuckets) return Status::InvalidArgument("too many buckets: use a shorter range or a longer bucket");
  Impl::Reader db(impl_.get());
  if (!db.status().ok()) return db.status();

  std::map<std::string, std::vector<Cell>> groups;
  auto cell = [&](const std::string& group, int64_t t) -> Cell* {
    if (t < first) return nullptr;
    auto idx = static_cast<size_t>((t - first) / q.bucket_ns);
    if (idx >= n) return nullptr;
    auto& cells = groups[group];
    if (cells.empty()) cells.resize(n);
    return &cells[idx];
  };

  Where where;
  if (scope.ByResourceGroupOnly()) {
    // Whole-day buckets read the daily rollups: 24 times fewer rows.
    const bool daily = q.bucket_ns % kDayNs == 0;
    const std::string start = daily ? "day" : "hour";
    where.Add("tag_key = " + where.Param(q.group_by));
    where.Add(start + " >= " + where.Param(daily ? first : first / kHourNs * kHourNs));
    where.Add(start + " < " + where.Param(q.until_ns));
    if (!q.kind.empty()) where.Add("kind = " + where.Param(q.kind));
    if (!scope.audit) where.Add("kind != 'audit'");  // the audit log's own day-spans
    if (!scope.unrestricted) {
      if (scope.resource_groups.empty()) return Trend{};
      std::string in;
      for (const auto& g : scope.resource_groups) {
        in += in.empty() ? "" : ", ";
        in += where.Param(g);
      }
      where.Add("resource_group COLLATE NOCASE IN (" + in + ")");
    }
    const std::string sql = "SELECT " + start + ", tag_value, jobs, ok, partial, failed, duration_sum, bytes_added, "
                            "bytes_total, hist FROM " + (daily ? "rollups_daily" : "rollups") + where.Sql();
    Status scan = ForEachRow(db.db(), sql, &where, [&](sql::Stmt& row) {
      Cell* c = cell(row.Text(1), row.Int(0));
      if (!c) return true;
      c->jobs += row.Int(2);
      c->ok += row.Int(3);
      c->partial += row.Int(4);
      c->failed += row.Int(5);
      c->duration_sum += row.Double(6);
      c->bytes_added += row.Int(7);
      c->bytes_total += row.Int(8);
      c->durations.MergeEncoded(row.Blob(9));
      return true;
    });
    if (!scan.ok()) return scan;
  } else {
    where.Add("j.start_ns >= " + where.Param(q.since_ns));
    where.Add("j.start_ns < " + where.Param(q.until_ns));
    where.Add("j.status != 'running'");
    if (!q.kind.empty()) where.Add("j.kind = " + where.Param(q.kind));
    Status error;
    if (!AddScopeClause(db.db(), scope, where, &error)) {
      if (!error.ok()) return error;
      return Trend{};
    }
    const std::string sql =
        "SELECT j.start_ns, j.end_ns, j.status, j.bytes_added, j.bytes_total, j.tags FROM jobs j" + where.Sql();
    Status scan = ForEachRow(db.db(), sql, &where, [&](sql::Stmt& row) {
      std::string group;
      if (!q.group_by.empty()) {
        bool found = false;
        for (const auto& [k, v] : TagsFromJson(row.Text(5)))
          if (k == q.group_by) {
            group = v;
            found = true;
          }
        if (!found) return true;  // as in the rollups: jobs without the tag are in no group
      }
      Cell* c = cell(group, row.Int(0));
      if (!c) return true;
      const double seconds = static_cast<double>(row.Int(1) - row.Int(0)) / 1e9;
      const std::string status = row.Text(2);
      c->jobs++;
      if (status == semconv::kJobStatusOk) c->ok++;
      else if (status == semconv::kJobStatusPartial) c->partial++;
      else c->failed++;
      c->duration_sum += seconds;
      c->bytes_added += row.Int(3);
      c->bytes_total += row.Int(4);
      c->durations.Add(seconds);
      return true;
    });
    if (!scan.ok()) return scan;
  }

  // The busiest groups first; at most kMaxSeries.
  std::vector<std::pair<int64_t, const std::string*>> order;
  for (const auto& [g, cells] : groups) {
    int64_t total = 0;
    for (const auto& c : cells) total += c.jobs;
    order.emplace_back(total, &g);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  if (order.size() > kMaxSeries) order.resize(kMaxSeries);

  Trend out;
  for (size_t i = 0; i < n; ++i) out.bucket_start_ns.push_back(first + static_cast<int64_t>(i) * q.bucket_ns);
  for (const auto& [total, group] : order) {
    TrendSeries s;
    s.group = *group;
    for (const Cell& c : groups[*group]) {
      s.value.push_back(Value(q.metric, c));
      s.jobs.push_back(c.jobs);
      if (q.metric == TrendMetric::kDuration) {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        s.p50.push_back(c.jobs ? c.durations.Quantile(0.5) : nan);
        s.p95.push_back(c.jobs ? c.durations.Quantile(0.95) : nan);
      }
    }
    out.series.push_back(std::move(s));
  }
  return out;
}

}  // namespace backspan::observatory
