#include "observatory/store/job_fields.h"

#include <nlohmann/json.hpp>

namespace backspan::observatory {

bool SameJob(const JobRecord& a, const JobRecord& b) {
  return a.name == b.name && a.kind == b.kind && a.status == b.status && a.host == b.host && a.service == b.service &&
         a.resource_group == b.resource_group && a.start_ns == b.start_ns && a.end_ns == b.end_ns &&
         a.bytes_added == b.bytes_added && a.bytes_total == b.bytes_total && a.files_total == b.files_total &&
         a.error_type == b.error_type && a.error_message == b.error_message && a.snapshot_id == b.snapshot_id &&
         a.source_key == b.source_key && a.source_paths == b.source_paths && a.tags == b.tags &&
         a.files_changed == b.files_changed && a.bytes_read == b.bytes_read && a.bytes_stored == b.bytes_stored &&
         a.deadline_ns == b.deadline_ns;
}

std::string TagsToJson(const std::vector<Tag>& tags) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : tags) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<Tag> TagsFromJson(const std::string& text) {
  std::vector<Tag> out;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.value().is_string()) out.emplace_back(it.key(), it.value().get<std::string>());
  return out;
}

}  // namespace backspan::observatory
