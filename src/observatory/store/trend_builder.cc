#include "observatory/store/trend_builder.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "observatory/store/job_fields.h"
#include "trace/semconv.h"

namespace backspan::observatory {
namespace {

constexpr size_t kMaxBuckets = 5000;
constexpr size_t kMaxSeries = 20;

}  // namespace

Result<TrendBuilder> TrendBuilder::Start(const TrendQuery& q) {
  if (q.bucket_ns < kHourNs || q.bucket_ns % kHourNs != 0) return Status::InvalidArgument("the bucket must be whole hours");
  if (q.until_ns <= q.since_ns) return Status::InvalidArgument("the time range is empty");
  const int64_t first = q.since_ns / q.bucket_ns * q.bucket_ns;
  const auto n = static_cast<size_t>((q.until_ns - first + q.bucket_ns - 1) / q.bucket_ns);
  if (n > kMaxBuckets) return Status::InvalidArgument("too many buckets: use a shorter range or a longer bucket");
  return TrendBuilder(q, first, n);
}

Result<TrendBuilder::Read> TrendBuilder::Sql(const Scope& scope, const TagIdLookup& find_tag, SqlDialect dialect) const {
  Read out;
  out.where = Where(dialect);
  Where& where = out.where;
  if (scope.ByResourceGroupOnly()) {
    out.from_rollups = true;
    // Whole-day buckets read the daily rollups: 24 times fewer rows.
    const bool daily = q_.bucket_ns % kDayNs == 0;
    const std::string start = daily ? "day" : "hour";
    where.Add("tag_key = " + where.Param(q_.group_by));
    where.Add(start + " >= " + where.Param(daily ? first_ : first_ / kHourNs * kHourNs));
    where.Add(start + " < " + where.Param(q_.until_ns));
    if (!q_.kind.empty()) where.Add("kind = " + where.Param(q_.kind));
    if (!scope.audit) where.Add("kind != 'audit'");  // the audit log's own day-spans
    if (!scope.unrestricted) {
      if (scope.resource_groups.empty()) return out;
      where.Add(CaseFoldedIn(where, "resource_group", scope.resource_groups));
    }
    out.sql = "SELECT " + start + ", tag_value, jobs, ok, partial, failed, duration_sum, bytes_added, "
              "bytes_total, hist FROM " + (daily ? "rollups_daily" : "rollups") + where.Sql();
    return out;
  }
  where.Add("j.start_ns >= " + where.Param(q_.since_ns));
  where.Add("j.start_ns < " + where.Param(q_.until_ns));
  where.Add("j.status != 'running'");
  if (!q_.kind.empty()) where.Add("j.kind = " + where.Param(q_.kind));
  Status error;
  if (!AddScopeClause(scope, find_tag, where, &error)) {
    if (!error.ok()) return error;
    return out;
  }
  out.sql = "SELECT j.start_ns, j.end_ns, j.status, j.bytes_added, j.bytes_total, j.tags FROM jobs j" + where.Sql();
  return out;
}

TrendBuilder::Cell* TrendBuilder::CellAt(const std::string& group, int64_t t) {
  if (t < first_) return nullptr;
  auto idx = static_cast<size_t>((t - first_) / q_.bucket_ns);
  if (idx >= n_) return nullptr;
  auto& cells = groups_[group];
  if (cells.empty()) cells.resize(n_);
  return &cells[idx];
}

void TrendBuilder::AddRollup(const RollupRow& row) {
  Cell* c = CellAt(row.group, row.start);
  if (!c) return;
  c->jobs += row.jobs;
  c->ok += row.ok;
  c->partial += row.partial;
  c->failed += row.failed;
  c->duration_sum += row.duration_sum;
  c->bytes_added += row.bytes_added;
  c->bytes_total += row.bytes_total;
  c->durations.MergeEncoded(row.hist);
}

void TrendBuilder::AddJob(int64_t start_ns, int64_t end_ns, std::string_view status, int64_t bytes_added,
                          int64_t bytes_total, const std::string& tags_json) {
  std::string group;
  if (!q_.group_by.empty()) {
    bool found = false;
    for (const auto& [k, v] : TagsFromJson(tags_json))
      if (k == q_.group_by) {
        group = v;
        found = true;
      }
    if (!found) return;  // as in the rollups: jobs without the tag are in no group
  }
  Cell* c = CellAt(group, start_ns);
  if (!c) return;
  const double seconds = static_cast<double>(end_ns - start_ns) / 1e9;
  c->jobs++;
  if (status == semconv::kJobStatusOk) c->ok++;
  else if (status == semconv::kJobStatusPartial) c->partial++;
  else c->failed++;
  c->duration_sum += seconds;
  c->bytes_added += bytes_added;
  c->bytes_total += bytes_total;
  c->durations.Add(seconds);
}

Trend TrendBuilder::Finish() const {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto value = [&](const Cell& c) -> double {
    switch (q_.metric) {
      case TrendMetric::kDuration: return c.jobs ? c.duration_sum / static_cast<double>(c.jobs) : nan;
      case TrendMetric::kThroughput: return c.duration_sum > 0 ? static_cast<double>(c.bytes_total) / c.duration_sum : nan;
      case TrendMetric::kBytesAdded: return c.jobs ? static_cast<double>(c.bytes_added) : nan;
      case TrendMetric::kSuccessRate: return c.jobs ? static_cast<double>(c.ok) / static_cast<double>(c.jobs) : nan;
      case TrendMetric::kJobCount: return static_cast<double>(c.jobs);
      case TrendMetric::kFailures: return static_cast<double>(c.failed);
    }
    return nan;
  };
  // The busiest groups first; at most kMaxSeries.
  std::vector<std::pair<int64_t, const std::string*>> order;
  for (const auto& [g, cells] : groups_) {
    int64_t total = 0;
    for (const auto& c : cells) total += c.jobs;
    order.emplace_back(total, &g);
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  if (order.size() > kMaxSeries) order.resize(kMaxSeries);

  Trend out;
  for (size_t i = 0; i < n_; ++i) out.bucket_start_ns.push_back(first_ + static_cast<int64_t>(i) * q_.bucket_ns);
  for (const auto& [total, group] : order) {
    TrendSeries s;
    s.group = *group;
    for (const Cell& c : groups_.at(*group)) {
      s.value.push_back(value(c));
      s.jobs.push_back(c.jobs);
      if (q_.metric == TrendMetric::kDuration) {
        s.p50.push_back(c.jobs ? c.durations.Quantile(0.5) : nan);
        s.p95.push_back(c.jobs ? c.durations.Quantile(0.95) : nan);
      }
    }
    out.series.push_back(std::move(s));
  }
  return out;
}

}  // namespace backspan::observatory
