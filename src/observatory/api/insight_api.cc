#include "observatory/api/insight_api.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>

#include "env/env.h"
#include "observatory/api/json_text.h"
#include "observatory/api/request_params.h"
#include "observatory/insight/wording.h"
#include "trace/semconv.h"
#include "util/time_format.h"

namespace backspan::observatory {
namespace {

using nlohmann::json;
using insight::AnomalyRecord;
using insight::JobPoint;

// The sources the caller sees, by key, narrowed to `source=` (a freshness
// source id) when given. The sources' rows decide visibility exactly as
// the freshness board does.
struct VisibleSources {
  std::map<std::string, SourceState> by_key;
  std::set<std::string> Keys() const {
    std::set<std::string> keys;
    for (const auto& [k, s] : by_key) keys.insert(k);
    return keys;
  }
};

Result<VisibleSources> Visible(SpanStore* store, const ApiRequest& req) {
  auto sources = store->Sources(req.scope);
  if (!sources.ok()) return sources.status();
  int64_t only = 0;
  if (const std::string* v = Param(req, "source")) {
    char* end = nullptr;
    only = std::strtoll(v->c_str(), &end, 10);
    if (!end || *end || only <= 0) throw BadParam{"source must be a source id from /api/v1/freshness, not '" + *v + "'"};
  }
  VisibleSources out;
  for (auto& s : *sources)
    if (only == 0 || s.id == only) out.by_key.emplace(s.key, std::move(s));
  return out;
}

int LimitParam(const ApiRequest& req, int fallback, int most) {
  const std::string* v = Param(req, "limit");
  if (!v) return fallback;
  const int limit = std::atoi(v->c_str());
  if (limit < 1 || limit > most) throw BadParam{"limit must be between 1 and " + std::to_string(most)};
  return limit;
}

json SourceJson(const SourceState& s) {
  return {{"source", s.id}, {"host", s.host}, {"resource_group", s.resource_group}};
}

json StatusJson(const insight::InsightStatus& st) {
  return {{"loaded", st.loaded},   {"pending", st.pending}, {"jobs", st.jobs},    {"sources", st.sources},
          {"anomalies", st.anomalies}, {"judging", st.judging}, {"judged", st.judged}};
}

json AnomalyJson(const AnomalyRecord& r, const SourceState& s) {
  const insight::Anomaly& a = r.anomaly;
  json numbers = json::object();
  for (const auto& e : a.evidence)
    numbers[e.name] = {{"value", e.value}, {"usual", e.usual}, {"low", e.low}, {"high", e.high},
                       {"ratio", e.ratio}, {"z", e.z}};
  json changed = json::object();
  for (const auto& c : a.changed) changed[c.key] = {{"from", c.from}, {"to", c.to}};
  json out = SourceJson(s);
  out.update({{"id", r.id},
              {"kind", a.kind},
              {"trace_id", trace::ToHex(r.trace_id)},
              {"job_id", trace::ToHex(r.span_id)},
              {"time", FormatRfc3339(r.time_ns)},
              {"score", a.score},
              {"severity", a.severity},
              {"message", a.message},
              {"evidence",
               {{"context", a.context}, {"baseline_jobs", a.baseline_jobs}, {"numbers", std::move(numbers)},
                {"changed_attributes", std::move(changed)}}}});
  return out;
}

json ForecastJson(const insight::SourceForecast& sf, const SourceState& s) {
  const insight::Forecast& f = sf.forecast;
  json out = SourceJson(s);
  out["jobs"] = sf.jobs;
  out["next_run"] = f.next_run_ns > 0 ? json(FormatRfc3339(f.next_run_ns)) : json(nullptr);
  out["overrun"] = nullptr;
  if (const auto& o = f.overrun)
    out["overrun"] = {{"expected_at", FormatRfc3339(o->expected_at_ns)},
                      {"runs_ahead", o->runs_ahead},
                      {"window_s", o->window_s},
                      {"predicted_duration_s", o->predicted_duration_s},
                      {"low_s", o->low_s},
                      {"high_s", o->high_s},
                      {"trend_s_per_day", o->trend_s_per_day}};
  out["growth"] = nullptr;
  if (const auto& g = f.growth)
    out["growth"] = {{"stored_bytes", g->stored_bytes},
                     {"quota_bytes", g->quota_bytes},
                     {"bytes_per_day", g->bytes_per_day},
                     {"expected_at", g->expected_at_ns > 0 ? json(FormatRfc3339(g->expected_at_ns)) : json(nullptr)}};
  out["risk"] = {{"p_fail", f.risk.p_fail},
                 {"p_missed", f.risk.p_missed},
                 {"p_overrun", f.risk.p_overrun ? json(*f.risk.p_overrun) : json(nullptr)}};
  return out;
}

const char* OutcomeName(insight::Outcome o) {
  switch (o) {
    case insight::Outcome::kSuccess: return "success";
    case insight::Outcome::kPartial: return "partial";
    case insight::Outcome::kFailed: return "failed";
    case insight::Outcome::kMissed: return "missed";
    default: return "other";
  }
}

// The export's columns: numbers and ids only (docs/insight.md, "Feature
// export"); never a host, path, tag or message.
constexpr const char* kFeatureColumns[] = {
    "source",       "job_id",       "trace_id",  "start_unix_s", "weekday",       "hour",
    "duration_s",   "outcome",      "window_s",  "bytes_added",  "bytes_total",   "bytes_read",
    "bytes_stored", "files_total",  "files_changed"};

json FeatureRow(int64_t source_id, const JobPoint& j) {
  const insight::CivilDay day = insight::CivilDayOf(j.start_ns);
  return json::array({source_id, trace::ToHex(j.span_id), trace::ToHex(j.trace_id), j.start_ns / 1'000'000'000,
                      day.weekday, day.hour,
                      j.DurationSeconds(), OutcomeName(j.outcome),
                      j.deadline_ns > 0 ? json(static_cast<double>(j.deadline_ns - j.start_ns) / 1e9) : json(nullptr),
                      j.bytes_added, j.bytes_total, j.bytes_read, j.bytes_stored, j.files_total, j.files_changed});
}

std::string CsvCell(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();  // hex ids and outcome names: no commas or quotes
  return v.dump();
}

}  // namespace

ApiResponse InsightApi::Anomalies(const ApiRequest& req) const {
  return Guard([&]() -> ApiResponse {
    const int64_t now = env_->NowUnixNanos();
    insight::AnomalyFilter filter;
    filter.since_ns = TimeParam(req, "since", 0, now);
    filter.until_ns = TimeParam(req, "until", INT64_MAX, now);
    if (const std::string* v = Param(req, "kind")) {
      bool known = false;
      for (const char* k : insight::kAnomalyKinds) known |= *v == k;
      if (!known) throw BadParam{"kind must be duration, throughput, change, failures or phase, not '" + *v + "'"};
      filter.kind = *v;
    }
    const int limit = LimitParam(req, 1000, 100000);
    auto visible = Visible(store_, req);
    if (!visible.ok()) return ApiErrorFor(visible.status());
    filter.sources = visible->Keys();
    const auto found = engine_->Anomalies(filter);
    // Newest first, as job lists are.
    json list = json::array();
    for (auto it = found.rbegin(); it != found.rend() && static_cast<int>(list.size()) < limit; ++it)
      list.push_back(AnomalyJson(*it, visible->by_key.at(it->source_key)));
    const bool more = static_cast<int>(found.size()) > limit;
    return {200, JsonText({{"anomalies", std::move(list)}, {"more", more}, {"insight", StatusJson(engine_->status())}})};
  });
}

ApiResponse InsightApi::Forecasts(const ApiRequest& req) const {
  return Guard([&]() -> ApiResponse {
    const int64_t now = env_->NowUnixNanos();
    const int64_t as_of = TimeParam(req, "as_of", now, now);
    auto visible = Visible(store_, req);
    if (!visible.ok()) return ApiErrorFor(visible.status());
    json list = json::array();
    for (const auto& f : engine_->Forecasts(visible->Keys(), as_of))
      list.push_back(ForecastJson(f, visible->by_key.at(f.source_key)));
    return {200, JsonText({{"as_of", FormatRfc3339(as_of)},
                       {"forecasts", std::move(list)},
                       {"insight", StatusJson(engine_->status())}})};
  });
}

ApiResponse InsightApi::Features(const ApiRequest& req, std::string* content_type) const {
  return Guard([&]() -> ApiResponse {
    const int64_t now = env_->NowUnixNanos();
    const int64_t since = TimeParam(req, "since", 0, now);
    const int64_t until = TimeParam(req, "until", INT64_MAX, now);
    const std::string format = Param(req, "format") ? *Param(req, "format") : "jsonl";
    if (format != "jsonl" && format != "csv") throw BadParam{"format must be jsonl or csv"};
    const int limit = LimitParam(req, 1'000'000, 1'000'000);
    auto visible = Visible(store_, req);
    if (!visible.ok()) return ApiErrorFor(visible.status());
    std::string body;
    if (format == "csv") {
      for (const char* c : kFeatureColumns) {
        if (!body.empty()) body += ',';
        body += c;
      }
      body += "\n";
    }
    int rows = 0;
    for (const auto& [key, job] : engine_->Jobs(visible->Keys(), since, until)) {
      if (rows++ >= limit) break;
      const json row = FeatureRow(visible->by_key.at(key).id, job);
      if (format == "csv") {
        for (size_t c = 0; c < row.size(); ++c) {
          if (c) body += ',';
          body += CsvCell(row[c]);
        }
        body += "\n";
      } else {
        json o = json::object();
        for (size_t c = 0; c < row.size(); ++c) o[kFeatureColumns[c]] = row[c];
        body += JsonText(o) + "\n";
      }
    }
    *content_type = format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson";
    return {200, std::move(body)};
  });
}

std::vector<AddedEvent> InsightApi::TraceAnomalies(const std::string& trace_id_hex, const Scope& scope) const {
  std::vector<AddedEvent> out;
  auto id = trace::TraceIdFromHex(trace_id_hex);
  if (!id) return out;
  auto sources = store_->Sources(scope);
  if (!sources.ok()) return out;
  insight::AnomalyFilter filter;
  for (const auto& s : *sources) filter.sources.insert(s.key);
  filter.trace_id = &*id;
  for (const AnomalyRecord& r : engine_->Anomalies(filter)) {
    AddedEvent e;
    e.span_id_hex = trace::ToHex(r.span_id);
    e.name = semconv::kAnomalyEvent;
    e.time_ns = r.time_ns;
    e.text = {{semconv::kAnomalyId, r.id},
              {semconv::kAnomalyKind, r.anomaly.kind},
              {semconv::kAnomalySeverity, r.anomaly.severity},
              {semconv::kAnomalyMessage, r.anomaly.message}};
    e.numbers = {{semconv::kAnomalyScore, r.anomaly.score}};
    out.push_back(std::move(e));
  }
  return out;
}

void InsightApi::AddMetrics(const Scope& scope, int64_t now_ns, MetricsInput& in) const {
  auto sources = store_->Sources(scope);
  if (!sources.ok()) return;
  std::map<std::string, int64_t> ids;
  std::set<std::string> keys;
  for (const auto& s : *sources) {
    ids[s.key] = s.id;
    keys.insert(s.key);
  }
  for (const auto& [kind_key, count] : engine_->RaisedCounts()) {
    auto it = ids.find(kind_key.second);
    if (it != ids.end()) in.anomalies.push_back({kind_key.first, it->second, count});
  }
  for (const auto& f : engine_->Forecasts(keys, now_ns)) {
    SourceOutlook o;
    o.source_id = ids[f.source_key];
    o.overrun_runs_ahead = f.forecast.overrun ? f.forecast.overrun->runs_ahead : -1;
    o.p_fail = f.forecast.risk.p_fail;
    o.p_missed = f.forecast.risk.p_missed;
    o.p_overrun = f.forecast.risk.p_overrun;
    in.outlook.push_back(o);
  }
}

}  // namespace backspan::observatory
