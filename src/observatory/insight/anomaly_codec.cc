#include "observatory/insight/anomaly_codec.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace backspan::observatory::insight {

using nlohmann::json;

namespace {

// JSON has no infinity: a number that overflowed was written as null.
double Number(const json& j) { return j.is_null() ? HUGE_VAL : j.get<double>(); }

}  // namespace

std::string EncodeAnomalies(const std::vector<AnomalyRecord>& records) {
  json out = json::array();
  for (const auto& r : records) {
    const Anomaly& a = r.anomaly;
    json evidence = json::array(), changed = json::array();
    for (const auto& e : a.evidence) evidence.push_back({e.name, e.value, e.usual, e.low, e.high, e.ratio, e.z});
    for (const auto& c : a.changed) changed.push_back({c.key, c.from, c.to});
    out.push_back({{"id", r.id},
                   {"source", r.source_key},
                   {"trace_id", trace::ToHex(r.trace_id)},
                   {"span_id", trace::ToHex(r.span_id)},
                   {"time_ns", r.time_ns},
                   {"kind", a.kind},
                   {"score", a.score},
                   {"severity", a.severity},
                   {"message", a.message},
                   {"context", a.context},
                   {"baseline_jobs", a.baseline_jobs},
                   {"evidence", std::move(evidence)},
                   {"changed", std::move(changed)}});
  }
  return out.dump();
}

Result<std::vector<AnomalyRecord>> DecodeAnomalies(const std::string& text) {
  try {
    const json in = json::parse(text);
    if (!in.is_array()) return Status::InvalidArgument("anomalies: not a JSON array");
    std::vector<AnomalyRecord> out;
    for (const auto& j : in) {
      AnomalyRecord r;
      r.id = j.at("id").get<std::string>();
      r.source_key = j.at("source").get<std::string>();
      const auto trace_id = trace::TraceIdFromHex(j.at("trace_id").get<std::string>());
      const auto span_id = trace::SpanIdFromHex(j.at("span_id").get<std::string>());
      if (!trace_id || !span_id) return Status::InvalidArgument("anomaly " + r.id + ": a malformed trace or span id");
      r.trace_id = *trace_id;
      r.span_id = *span_id;
      r.time_ns = j.at("time_ns").get<int64_t>();
      Anomaly& a = r.anomaly;
      a.kind = j.at("kind").get<std::string>();
      a.score = Number(j.at("score"));
      a.severity = j.at("severity").get<std::string>();
      a.message = j.at("message").get<std::string>();
      a.context = j.at("context").get<std::string>();
      a.baseline_jobs = j.at("baseline_jobs").get<int>();
      for (const auto& e : j.at("evidence"))
        a.evidence.push_back({e.at(0).get<std::string>(), Number(e.at(1)), Number(e.at(2)), Number(e.at(3)),
                              Number(e.at(4)), Number(e.at(5)), Number(e.at(6))});
      for (const auto& c : j.at("changed"))
        a.changed.push_back({c.at(0).get<std::string>(), c.at(1).get<std::string>(), c.at(2).get<std::string>()});
      out.push_back(std::move(r));
    }
    return out;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("anomalies: ") + e.what());
  }
}

}  // namespace backspan::observatory::insight
