#include "observatory/store/source_state.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "trace/semconv.h"

namespace backspan::observatory {

std::string SourceToJson(const SourceState& s) {
  nlohmann::json tags = nlohmann::json::object();
  for (const auto& [k, v] : s.tags) tags[k] = v;
  nlohmann::json j = {{"host", s.host}, {"service", s.service}, {"paths", s.paths}, {"resource_group", s.resource_group},
                      {"tags", tags}, {"first_seen_ns", s.first_seen_ns}, {"last_job_ns", s.last_job_ns},
                      {"last_success_ns", s.last_success_ns}, {"last_status", s.last_status},
                      {"last_trace_id", s.last_trace_id}, {"jobs", s.jobs_total}, {"ok", s.success_total},
                      {"partial", s.partial_total}, {"failed", s.failed_total}, {"bytes_added", s.bytes_added_total},
                      {"duration_sum", s.duration_seconds_sum}, {"duration_buckets", s.duration_buckets},
                      {"recent_success_ns", s.recent_success_ns}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

SourceState SourceFromJson(const std::string& text) {
  SourceState s;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return s;
  auto str = [&](const char* k) { return j.value(k, std::string()); };
  auto num = [&](const char* k) { return j.value(k, int64_t{0}); };
  s.host = str("host");
  s.service = str("service");
  s.paths = str("paths");
  s.resource_group = str("resource_group");
  if (auto t = j.find("tags"); t != j.end() && t->is_object())
    for (auto it = t->begin(); it != t->end(); ++it)
      if (it.value().is_string()) s.tags.emplace_back(it.key(), it.value().get<std::string>());
  s.first_seen_ns = num("first_seen_ns");
  s.last_job_ns = num("last_job_ns");
  s.last_success_ns = num("last_success_ns");
  s.last_status = str("last_status");
  s.last_trace_id = str("last_trace_id");
  s.jobs_total = num("jobs");
  s.success_total = num("ok");
  s.partial_total = num("partial");
  s.failed_total = num("failed");
  s.bytes_added_total = num("bytes_added");
  s.duration_seconds_sum = j.value("duration_sum", 0.0);
  if (auto b = j.find("duration_buckets"); b != j.end() && b->is_array()) s.duration_buckets = b->get<std::vector<int64_t>>();
  if (auto r = j.find("recent_success_ns"); r != j.end() && r->is_array()) s.recent_success_ns = r->get<std::vector<int64_t>>();
  return s;
}

SourceState NewSource(const JobRecord& job) {
  SourceState s;
  s.host = job.host;
  s.service = job.service;
  s.paths = job.source_paths;
  s.first_seen_ns = job.start_ns;
  return s;
}

void AddJobToSource(SourceState& s, const JobRecord& job) {
  const double seconds = static_cast<double>(job.end_ns - job.start_ns) / 1e9;
  s.jobs_total++;
  s.bytes_added_total += job.bytes_added;
  s.duration_seconds_sum += seconds;
  if (s.duration_buckets.size() != std::size(kDurationBucketsSeconds) + 1)
    s.duration_buckets.assign(std::size(kDurationBucketsSeconds) + 1, 0);
  size_t b = 0;
  while (b < std::size(kDurationBucketsSeconds) && seconds > kDurationBucketsSeconds[b]) ++b;
  s.duration_buckets[b]++;
  if (job.status == semconv::kJobStatusOk) s.success_total++;
  else if (job.status == semconv::kJobStatusPartial) s.partial_total++;
  else s.failed_total++;  // failed or interrupted: no snapshot
  // Jobs may arrive out of order (an agent's retry, or replicas committing
  // side by side): the newest start decides, so the state does not depend
  // on the order jobs were counted in.
  s.first_seen_ns = std::min(s.first_seen_ns, job.start_ns);
  if (job.start_ns >= s.last_job_ns) {
    s.resource_group = job.resource_group;
    s.tags = job.tags;
    s.last_job_ns = job.start_ns;
    s.last_status = job.status;
    s.last_trace_id = trace::ToHex(job.trace_id);
  }
  if (job.status == semconv::kJobStatusOk || job.status == semconv::kJobStatusPartial) {
    // A partial backup still saved a snapshot: the source is backed up, with warnings.
    s.last_success_ns = std::max(s.last_success_ns, job.end_ns);
    s.recent_success_ns.push_back(job.start_ns);
    std::sort(s.recent_success_ns.begin(), s.recent_success_ns.end());
    if (s.recent_success_ns.size() > 9) s.recent_success_ns.erase(s.recent_success_ns.begin());
  }
}

}  // namespace backspan::observatory
