#include "observatory/store/postgres/counted_jobs.h"

#include <nlohmann/json.hpp>

namespace backspan::observatory {

using nlohmann::json;

std::string EncodeCountedJobs(const std::vector<CountedJob>& jobs) {
  json out = json::array();
  for (const CountedJob& c : jobs) {
    const JobRecord& j = c.job;
    json tags = json::array();
    for (const auto& [k, v] : j.tags) tags.push_back({k, v});
    out.push_back({{"s", c.sign}, {"src", c.to_source}, {"trace", trace::ToHex(j.trace_id)},
                   {"span", trace::ToHex(j.span_id)}, {"name", j.name}, {"kind", j.kind}, {"status", j.status},
                   {"host", j.host}, {"service", j.service}, {"rg", j.resource_group}, {"start", j.start_ns},
                   {"end", j.end_ns}, {"added", j.bytes_added}, {"total", j.bytes_total}, {"files", j.files_total},
                   {"changed", j.files_changed}, {"read", j.bytes_read}, {"stored", j.bytes_stored},
                   {"deadline", j.deadline_ns}, {"etype", j.error_type}, {"emsg", j.error_message},
                   {"snap", j.snapshot_id}, {"key", j.source_key}, {"paths", j.source_paths}, {"tags", tags}});
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::vector<CountedJob>> DecodeCountedJobs(std::string_view text) {
  const json in = json::parse(text, nullptr, false);
  if (!in.is_array()) return Status::Corruption("a row of aggregate_deltas is not a JSON array");
  std::vector<CountedJob> out;
  try {
    for (const json& e : in) {
      CountedJob c;
      c.sign = e.at("s").get<int>();
      c.to_source = e.at("src").get<bool>();
      JobRecord& j = c.job;
      if (auto id = trace::TraceIdFromHex(e.at("trace").get<std::string>())) j.trace_id = *id;
      if (auto id = trace::SpanIdFromHex(e.value("span", std::string()))) j.span_id = *id;
      j.name = e.value("name", std::string());
      j.files_total = e.value("files", int64_t{0});
      j.files_changed = e.value("changed", int64_t{0});
      j.bytes_read = e.value("read", int64_t{0});
      j.bytes_stored = e.value("stored", int64_t{0});
      j.deadline_ns = e.value("deadline", int64_t{0});
      j.error_type = e.value("etype", std::string());
      j.error_message = e.value("emsg", std::string());
      j.snapshot_id = e.value("snap", std::string());
      j.kind = e.at("kind").get<std::string>();
      j.status = e.at("status").get<std::string>();
      j.host = e.at("host").get<std::string>();
      j.service = e.at("service").get<std::string>();
      j.resource_group = e.at("rg").get<std::string>();
      j.start_ns = e.at("start").get<int64_t>();
      j.end_ns = e.at("end").get<int64_t>();
      j.bytes_added = e.at("added").get<int64_t>();
      j.bytes_total = e.at("total").get<int64_t>();
      j.source_key = e.at("key").get<std::string>();
      j.source_paths = e.at("paths").get<std::string>();
      for (const json& t : e.at("tags")) j.tags.emplace_back(t.at(0).get<std::string>(), t.at(1).get<std::string>());
      out.push_back(std::move(c));
    }
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("a row of aggregate_deltas is damaged: ") + e.what());
  }
  return out;
}

}  // namespace backspan::observatory
