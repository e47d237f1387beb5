#include "observatory/api/query_api.h"

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "env/env.h"
#include "observatory/api/json_text.h"
#include "observatory/api/request_params.h"
#include "observatory/query/freshness.h"
#include "observatory/store/agent_record.h"
#include "observatory/query/trace_view.h"
#include "util/time_format.h"

namespace backspan::observatory {
namespace {

using nlohmann::json;

std::string Rfc3339OrNull(int64_t ns) { return ns > 0 ? FormatRfc3339(ns) : ""; }

json TagsJson(const std::vector<Tag>& tags) {
  json o = json::object();
  for (const auto& [k, v] : tags) o[k] = v;
  return o;
}

json JobJson(const JobRow& j) {
  json out = {{"job_id", trace::ToHex(j.span_id)},
              {"trace_id", trace::ToHex(j.trace_id)},
              {"name", j.name},
              {"kind", j.kind},
              {"status", j.status},
              {"host", j.host},
              {"service", j.service},
              {"resource_group", j.resource_group},
              {"start_time", FormatRfc3339(j.start_ns)},
              {"start_unix_nano", std::to_string(j.start_ns)},
              {"end_time", FormatRfc3339(j.end_ns)},
              {"duration_ms", static_cast<double>(j.end_ns - j.start_ns) / 1e6},
              {"bytes_added", j.bytes_added},
              {"bytes_total", j.bytes_total},
              {"files_total", j.files_total},
              {"error_type", j.error_type},
              {"error_message", j.error_message},
              {"snapshot_id", j.snapshot_id},
              {"paths", j.source_paths},
              {"tags", TagsJson(j.tags)}};
  if (j.deadline_ns > 0) out["deadline"] = FormatRfc3339(j.deadline_ns);
  if (j.status == semconv::kJobStatusRunning || j.status == semconv::kJobStatusLost) {
    out["last_update"] = FormatRfc3339(j.updated_ns);
    // How long it has been running, as of its last update.
    out["duration_ms"] = static_cast<double>(std::max<int64_t>(0, j.updated_ns - j.start_ns)) / 1e6;
  }
  return out;
}

json NumbersOrNull(const std::vector<double>& v) {
  json a = json::array();
  for (double d : v) a.push_back(std::isfinite(d) ? json(d) : json(nullptr));
  return a;
}

ApiResponse FromStatus(const Status& s) { return ApiErrorFor(s); }

}  // namespace


ApiResponse Api::Jobs(const ApiRequest& req) const {
  return Guard([&]() -> ApiResponse {
    const int64_t now = env_->NowUnixNanos();
    JobQuery q;
    q.since_ns = TimeParam(req, "since", 0, now);
    q.until_ns = TimeParam(req, "until", INT64_MAX, now);
    if (auto* v = Param(req, "kind")) q.kind = *v;
    if (auto* v = Param(req, "status")) q.status = *v;
    if (auto* v = Param(req, "host")) q.host = *v;
    if (auto* v = Param(req, "q")) q.text = *v;
    q.min_duration_ns = DurationParam(req, "min_duration", -1);
    q.max_duration_ns = DurationParam(req, "max_duration", -1);
    auto range = req.params.equal_range("tag");
    for (auto it = range.first; it != range.second; ++it) {
      auto eq = it->second.find('=');
      if (eq == std::string::npos || eq == 0) throw BadParam{"tag must be KEY=VALUE, not '" + it->second + "'"};
      q.tags.emplace_back(it->second.substr(0, eq), it->second.substr(eq + 1));
    }
    if (auto* v = Param(req, "limit")) {
      q.limit = std::atoi(v->c_str());
      if (q.limit < 1 || q.limit > 1000) throw BadParam{"limit must be between 1 and 1000"};
    }
    if (auto* v = Param(req, "before")) {
      // The cursor a previous page returned: "<start ns>.<row id>".
      auto dot = v->find('.');
      char* e1 = nullptr;
      char* e2 = nullptr;
      q.before_start_ns = std::strtoll(v->c_str(), &e1, 10);
      q.before_id = dot == std::string::npos ? 0 : std::strtoll(v->c_str() + dot + 1, &e2, 10);
      if (dot == std::string::npos || e1 != v->c_str() + dot || !e2 || *e2) throw BadParam{"before is not a cursor from a previous page"};
    }
    auto page = store_->ListJobs(q, req.scope);
    if (!page.ok()) return FromStatus(page.status());
    json jobs = json::array();
    for (const auto& j : page->jobs) jobs.push_back(JobJson(j));
    json out = {{"jobs", std::move(jobs)}, {"next", nullptr}};
    if (page->more && !page->jobs.empty())
      out["next"] = std::to_string(page->jobs.back().start_ns) + "." + std::to_string(page->jobs.back().id);
    return {200, JsonText(out)};
  });
}

ApiResponse Api::Trace(const std::string& trace_id_hex, const ApiRequest& req,
                       const std::vector<AddedEvent>& added) const {
  auto id = trace::TraceIdFromHex(trace_id_hex);
  if (!id || *id == trace::TraceId{}) return ApiError(400, "a trace id is 32 hex digits, not all zero");
  auto stored = store_->GetTrace(*id, req.scope);
  if (!stored.ok()) return FromStatus(stored.status());
  // A trace the caller may see none of does not exist for them.
  if (stored->finished.empty() && stored->live.empty()) {
    ApiResponse out = ApiError(404, "no trace " + trace::ToHex(*id));
    out.out_of_scope = true;
    return out;
  }
  return {200, RenderTraceJson(trace::ToHex(*id), *stored, added)};
}

ApiResponse Api::Trends(const ApiRequest& req) const {
  return Guard([&]() -> ApiResponse {
    const int64_t now = env_->NowUnixNanos();
    TrendQuery q;
    static const std::pair<const char*, TrendMetric> kMetrics[] = {
        {"duration", TrendMetric::kDuration},       {"throughput", TrendMetric::kThroughput},
        {"bytes_added", TrendMetric::kBytesAdded},  {"success_rate", TrendMetric::kSuccessRate},
        {"job_count", TrendMetric::kJobCount},      {"failures", TrendMetric::kFailures}};
    std::string metric = Param(req, "metric") ? *Param(req, "metric") : "duration";
    bool known = false;
    for (const auto& [name, m] : kMetrics)
      if (metric == name) {
        q.metric = m;
        known = true;
      }
    if (!known) throw BadParam{"metric must be duration, throughput, bytes_added, success_rate, job_count or failures"};
    std::string bucket = Param(req, "bucket") ? *Param(req, "bucket") : "hour";
    if (bucket == "hour") q.bucket_ns = 3'600'000'000'000;
    else if (bucket == "day") q.bucket_ns = 86'400'000'000'000;
    else throw BadParam{"bucket must be hour or day"};
    if (auto* v = Param(req, "group_by")) q.group_by = *v;
    if (auto* v = Param(req, "kind")) q.kind = *v;
    q.until_ns = TimeParam(req, "until", now, now);
    q.since_ns = TimeParam(req, "since", q.until_ns - (bucket == "day" ? 30 : 2) * 86'400'000'000'000, now);
    auto trend = store_->GetTrend(q, req.scope);
    if (!trend.ok()) return FromStatus(trend.status());
    json buckets = json::array();
    for (int64_t t : trend->bucket_start_ns) buckets.push_back(t / 1'000'000'000);
    json series = json::array();
    for (const auto& s : trend->series) {
      json j = {{"group", s.group}, {"values", NumbersOrNull(s.value)}, {"jobs", s.jobs}};
      if (q.metric == TrendMetric::kDuration) {
        j["p50"] = NumbersOrNull(s.p50);
        j["p95"] = NumbersOrNull(s.p95);
      }
      series.push_back(std::move(j));
    }
    static const char* const kUnits[] = {"seconds", "bytes per second", "bytes", "ratio", "jobs", "jobs"};
    return {200, JsonText({{"metric", metric},
                       {"unit", kUnits[static_cast<int>(q.metric)]},
                       {"bucket", bucket},
                       {"group_by", q.group_by},
                       {"buckets", std::move(buckets)},
                       {"series", std::move(series)}})};
  });
}

ApiResponse Api::Freshness(const ApiRequest& req) const {
  return Guard([&]() -> ApiResponse {
    const int64_t now = env_->NowUnixNanos();
    const int64_t stale = DurationParam(req, "stale_after", default_stale_ns_);
    auto sources = store_->Sources(req.scope);
    if (!sources.ok()) return FromStatus(sources.status());
    auto agents = store_->Agents(req.scope);
    if (!agents.ok()) return FromStatus(agents.status());
    const auto declared = Declarations(*agents);
    json out = json::array();
    int overdue = 0;
    json states = json::object();
    for (const char* name : {"ok", "running", "late", "overdue", "failing", "paused"}) states[name] = 0;
    for (const SourceView& v : FreshnessBoard(std::move(*sources), declared, now, stale)) {
      const SourceState& s = v.source;
      const observatory::Freshness& f = v.freshness;
      overdue += f.overdue;
      states[HealthName(f.state)] = states[HealthName(f.state)].get<int>() + 1;
      json j = {{"source_id", s.id ? json(s.id) : json(nullptr)},
                {"host", s.host},
                {"service", s.service},
                {"paths", s.paths},
                {"resource_group", s.resource_group},
                {"tags", TagsJson(s.tags)},
                {"state", HealthName(f.state)},
                {"last_success", Rfc3339OrNull(s.last_success_ns)},
                {"last_job", Rfc3339OrNull(s.last_job_ns)},
                {"last_status", s.last_status},
                {"last_trace_id", s.last_trace_id},
                {"age_seconds", static_cast<double>(f.age_ns) / 1e9},
                {"expected_interval_seconds", static_cast<double>(f.expected_interval_ns) / 1e9},
                {"overdue_after_seconds", static_cast<double>(f.overdue_after_ns) / 1e9},
                {"overdue", f.overdue},
                {"jobs", s.jobs_total},
                {"failed", s.failed_total}};
      if (v.declared) {
        const DeclaredPolicy& p = *v.declared->policy;
        j["schedule"] = {{"policy", p.name},        {"cron", p.schedule},
                         {"timezone", p.timezone},  {"agent", v.declared->agent->name},
                         {"agent_up", AgentUp(*v.declared->agent, now)},
                         {"expected_by", Rfc3339OrNull(f.expected_by_ns)},
                         {"restores", p.restores},
                         {"grace_seconds", static_cast<double>(f.grace_ns) / 1e9}};
      }
      out.push_back(std::move(j));
    }
    return {200, JsonText({{"sources", std::move(out)}, {"overdue", overdue}, {"states", states}})};
  });
}

ApiResponse Api::Agents(const ApiRequest& req) const {
  return Guard([&]() -> ApiResponse {
    const int64_t now = env_->NowUnixNanos();
    auto agents = store_->Agents(req.scope);
    if (!agents.ok()) return FromStatus(agents.status());
    json out = json::array();
    for (const AgentRecord& a : *agents) {
      json j = json::parse(AgentRecordToJson(a, req.scope));
      j["up"] = AgentUp(a, now);
      j["heartbeat_age_seconds"] = static_cast<double>(now - a.received_ns) / 1e9;
      out.push_back(std::move(j));
    }
    return {200, JsonText({{"agents", std::move(out)}})};
  });
}

ApiResponse Api::Tags(const ApiRequest& req) const {
  auto keys = store_->TagKeys(50, req.scope);
  if (!keys.ok()) return FromStatus(keys.status());
  json out = json::object();
  for (const auto& [k, values] : *keys) out[k] = values;
  return {200, JsonText({{"tags", std::move(out)}})};
}

}  // namespace backspan::observatory
