#include "repository/snapshot.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "util/time_format.h"
#include "util/json_number.h"

namespace backspan {

using nlohmann::json;

bool Snapshot::Matches(const std::vector<std::string>& want_tags, const std::string& host) const {
  if (!host.empty() && hostname != host) return false;
  for (const auto& t : want_tags)
    if (std::find(tags.begin(), tags.end(), t) == tags.end()) return false;
  return true;
}

static json SummaryJson(const BackupSummary& s) {
  return {{"files_new", s.files_new},       {"files_changed", s.files_changed},
          {"files_unmodified", s.files_unmodified}, {"dirs_new", s.dirs_new},
          {"dirs_changed", s.dirs_changed}, {"dirs_unmodified", s.dirs_unmodified},
          {"data_blobs", s.data_blobs},     {"tree_blobs", s.tree_blobs},
          {"total_files", s.total_files},   {"total_bytes", s.total_bytes},
          {"bytes_read", s.bytes_read},     {"bytes_added", s.bytes_added},
          {"bytes_stored", s.bytes_stored}, {"errors", s.errors},
          {"duration_s", s.duration_s}};
}

std::string SnapshotToJson(const Snapshot& s, bool include_id) {
  json j;
  if (include_id) {
    j["id"] = s.id;
    j["short_id"] = s.id.substr(0, 8);
  }
  j["time"] = FormatRfc3339(s.time_ns);
  j["tree"] = s.tree.Hex();
  j["paths"] = s.paths;
  j["hostname"] = s.hostname;
  j["username"] = s.username;
  j["uid"] = s.uid;
  j["gid"] = s.gid;
  j["tags"] = s.tags;
  if (!s.parent.empty()) j["parent"] = s.parent;
  j["program_version"] = s.program_version;
  j["trace_id"] = s.trace_id;
  j["summary"] = SummaryJson(s.summary);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<Snapshot> SnapshotFromJson(ByteView data) {
  auto j = json::parse(data.begin(), data.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("snapshot is not valid JSON");
  Snapshot s;
  try {
    auto t = ParseRfc3339(j.at("time").get<std::string>());
    if (!t) return Status::Corruption("snapshot has an invalid time");
    s.time_ns = *t;
    auto tree = Id::FromHex(j.at("tree").get<std::string>());
    if (!tree) return Status::Corruption("snapshot has an invalid tree id");
    s.tree = *tree;
    s.paths = j.at("paths").get<std::vector<std::string>>();
    s.hostname = j.value("hostname", "");
    s.username = j.value("username", "");
    s.uid = IntegerField<uint32_t>(j, "uid", 0u);
    s.gid = IntegerField<uint32_t>(j, "gid", 0u);
    s.tags = j.value("tags", std::vector<std::string>{});
    s.parent = j.value("parent", "");
    s.program_version = j.value("program_version", "");
    s.trace_id = j.value("trace_id", "");
    if (j.contains("summary")) {
      const auto& m = j["summary"];
      auto& o = s.summary;
      o.files_new = IntegerField<uint64_t>(m, "files_new", 0ull);
      o.files_changed = IntegerField<uint64_t>(m, "files_changed", 0ull);
      o.files_unmodified = IntegerField<uint64_t>(m, "files_unmodified", 0ull);
      o.dirs_new = IntegerField<uint64_t>(m, "dirs_new", 0ull);
      o.dirs_changed = IntegerField<uint64_t>(m, "dirs_changed", 0ull);
      o.dirs_unmodified = IntegerField<uint64_t>(m, "dirs_unmodified", 0ull);
      o.data_blobs = IntegerField<uint64_t>(m, "data_blobs", 0ull);
      o.tree_blobs = IntegerField<uint64_t>(m, "tree_blobs", 0ull);
      o.total_files = IntegerField<uint64_t>(m, "total_files", 0ull);
      o.total_bytes = IntegerField<uint64_t>(m, "total_bytes", 0ull);
      o.bytes_read = IntegerField<uint64_t>(m, "bytes_read", 0ull);
      o.bytes_added = IntegerField<uint64_t>(m, "bytes_added", 0ull);
      o.bytes_stored = IntegerField<uint64_t>(m, "bytes_stored", 0ull);
      o.errors = IntegerField<uint64_t>(m, "errors", 0ull);
      o.duration_s = m.value("duration_s", 0.0);
    }
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("snapshot: ") + e.what());
  }
  return s;
}

Status ValidateTag(const std::string& tag) {
  size_t eq = tag.find('=');
  if (eq == std::string::npos || eq == 0)
    return Status::InvalidArgument("tag '" + tag + "' is not KEY=VALUE");
  return Status::Ok();
}

}  // namespace backspan
