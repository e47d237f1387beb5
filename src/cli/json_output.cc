#include "cli/json_output.h"

#include <nlohmann/json.hpp>

#include "util/time_format.h"

namespace backspan::cli {

using nlohmann::json;

namespace {

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

const char* KindName(FileKind k) {
  switch (k) {
    case FileKind::kFile: return "file";
    case FileKind::kDir: return "dir";
    case FileKind::kSymlink: return "symlink";
    case FileKind::kDev: return "dev";
    case FileKind::kCharDev: return "chardev";
    case FileKind::kFifo: return "fifo";
    case FileKind::kSocket: return "socket";
    case FileKind::kOther: return "other";
  }
  return "other";
}

double Percent(uint64_t done, uint64_t total) {
  return total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0.0;
}

}  // namespace

std::string ErrorJson(const Status& status, int exit_code) {
  return Dump({{"message_type", "exit_error"}, {"code", exit_code},
               {"error_type", status.CodeName()}, {"message", status.message()}});
}

std::string AgentCheckJson(const std::string& path, const std::string& host, const std::vector<AgentPolicyCheck>& policies) {
  json list = json::array();
  for (const auto& p : policies) {
    json j = {{"name", p.name}, {"ok", p.error.empty()}};
    if (!p.error.empty()) {
      j["error"] = p.error;
    } else {
      j["schedule"] = p.schedule;
      j["timezone"] = p.timezone;
      json runs = json::array();
      for (const auto& r : p.runs)
        runs.push_back({{"wall_clock", r.wall_clock}, {"start", FormatRfc3339(r.start_ns)}, {"deadline", FormatRfc3339(r.deadline_ns)}});
      j["next_runs"] = runs;
    }
    list.push_back(j);
  }
  return json{{"message_type", "agent_check"}, {"config", path}, {"host", host}, {"policies", list}}.dump();
}

std::string ServeListeningJson(const std::string& url, const std::string& data_dir) {
  return Dump({{"message_type", "listening"}, {"url", url}, {"data", data_dir}});
}

std::string StoreCopyJson(const std::string& from, const std::string& to, int64_t jobs, int64_t span_chunks,
                          int64_t spans, int64_t sources, bool verified) {
  return Dump({{"message_type", "store_copy"}, {"from", from}, {"to", to}, {"jobs", jobs}, {"span_chunks", span_chunks},
               {"spans", spans}, {"sources", sources}, {"verified", verified}});
}

std::string WarningJson(const std::string& message) {
  return Dump({{"message_type", "warning"}, {"message", message}});
}

std::string InitJson(const std::string& repo_id, const std::string& location) {
  return Dump({{"message_type", "initialized"}, {"id", repo_id}, {"repository", location}});
}

std::string BackupStatusJson(const BackupProgress& p, double elapsed_s) {
  return Dump({{"message_type", "status"},
               {"seconds_elapsed", elapsed_s},
               {"percent_done", Percent(p.bytes_done, p.bytes_total)},
               {"total_files", p.files_total.load()},
               {"files_done", p.files_done.load()},
               {"total_bytes", p.bytes_total.load()},
               {"bytes_done", p.bytes_done.load()},
               {"scan_finished", p.scan_done.load()},
               {"error_count", p.errors.load()}});
}

std::string BackupIssueJson(const BackupIssue& issue) {
  return Dump({{"message_type", issue.is_error ? "error" : "warning"},
               {"item", issue.path},
               {"message", issue.message}});
}

std::string BackupSummaryJson(const BackupResult& r) {
  const auto& s = r.snapshot.summary;
  json j = {{"message_type", "summary"},
            {"snapshot_id", r.snapshot.id},
            {"files_new", s.files_new},
            {"files_changed", s.files_changed},
            {"files_unmodified", s.files_unmodified},
            {"dirs_new", s.dirs_new},
            {"dirs_changed", s.dirs_changed},
            {"dirs_unmodified", s.dirs_unmodified},
            {"data_blobs", s.data_blobs},
            {"tree_blobs", s.tree_blobs},
            {"total_files_processed", s.total_files},
            {"total_bytes_processed", s.total_bytes},
            {"bytes_read", s.bytes_read},
            {"bytes_added", s.bytes_added},
            {"bytes_stored", s.bytes_stored},
            {"errors", s.errors},
            {"duration_s", s.duration_s},
            {"trace_id", r.snapshot.trace_id}};
  if (!r.snapshot.parent.empty()) j["parent"] = r.snapshot.parent;
  return Dump(j);
}

std::string SnapshotListJson(const std::vector<Snapshot>& snapshots) {
  std::string out = "[";
  for (size_t i = 0; i < snapshots.size(); ++i) {
    if (i) out += ",";
    out += SnapshotToJson(snapshots[i], true);
  }
  return out + "]";
}

std::string NodeJson(const std::string& path, const Node& n) {
  json j = {{"name", n.name}, {"type", KindName(n.kind)}, {"path", path},
            {"mode", n.mode},  {"uid", n.uid},           {"gid", n.gid},
            {"mtime", FormatRfc3339(n.mtime_ns)}};
  if (n.kind == FileKind::kFile) j["size"] = n.size;
  if (n.kind == FileKind::kSymlink) j["link_target"] = n.link_target;
  return Dump(j);
}

std::string LsJson(const Snapshot& snapshot, const std::vector<std::string>& node_docs) {
  std::string out = "{\"snapshot\":" + SnapshotToJson(snapshot, true) + ",\"nodes\":[";
  for (size_t i = 0; i < node_docs.size(); ++i) {
    if (i) out += ",";
    out += node_docs[i];
  }
  return out + "]}";
}

std::string DiffJson(const Snapshot& a, const Snapshot& b, const std::vector<DiffEntry>& changes) {
  json list = json::array();
  uint64_t added = 0, removed = 0, modified = 0, metadata = 0, type = 0;
  for (const auto& c : changes) {
    list.push_back({{"path", c.path}, {"modifier", std::string(1, c.modifier)}});
    switch (c.modifier) {
      case '+': ++added; break;
      case '-': ++removed; break;
      case 'M': ++modified; break;
      case 'U': ++metadata; break;
      default: ++type;
    }
  }
  return Dump({{"source_snapshot", a.id},
               {"target_snapshot", b.id},
               {"changes", list},
               {"stats",
                {{"added", added}, {"removed", removed}, {"changed", modified},
                 {"metadata_changed", metadata}, {"type_changed", type}}}});
}

std::string RestoreStatusJson(const RestoreProgress& p, double elapsed_s) {
  return Dump({{"message_type", "status"},
               {"seconds_elapsed", elapsed_s},
               {"percent_done", Percent(p.bytes_done, p.bytes_total)},
               {"total_files", p.files_total.load()},
               {"files_restored", p.files_done.load()},
               {"total_bytes", p.bytes_total.load()},
               {"bytes_restored", p.bytes_done.load()},
               {"error_count", p.errors.load()}});
}

std::string RestoreIssueJson(const RestoreIssue& issue) {
  return Dump({{"message_type", "error"}, {"item", issue.path}, {"message", issue.message}});
}

std::string RestoreSummaryJson(const Snapshot& s, const RestoreResult& r) {
  return Dump({{"message_type", "summary"},
               {"snapshot_id", s.id},
               {"files_restored", r.files_restored},
               {"dirs_restored", r.dirs_restored},
               {"links_restored", r.links_restored},
               {"bytes_restored", r.bytes_written},
               {"files_verified", r.files_verified},
               {"errors", r.issues.size()},
               {"duration_s", r.duration_s}});
}

std::string CheckJson(const CheckResult& r) {
  json affected = json::array();
  for (const auto& a : r.affected)
    affected.push_back({{"snapshot_id", a.snapshot}, {"path", a.path}, {"problem", a.problem}});
  return Dump({{"message_type", "summary"},
               {"ok", r.ok()},
               {"errors", r.errors},
               {"notices", r.notices},
               {"affected", affected},
               {"packs", r.packs},
               {"packs_read", r.packs_read},
               {"blobs_read", r.blobs_read},
               {"snapshots", r.snapshots},
               {"trees", r.trees}});
}

std::string KeyListJson(const std::vector<KeyInfo>& keys) {
  json list = json::array();
  for (const auto& k : keys)
    list.push_back({{"id", k.id},
                    {"current", k.current},
                    {"username", k.file.username},
                    {"hostname", k.file.hostname},
                    {"created", FormatRfc3339(k.file.created_ns)}});
  return Dump(list);
}

std::string KeyChangeJson(const std::string& action, const std::string& id) {
  return Dump({{"message_type", action}, {"id", id}});
}

namespace {
json SnapshotBrief(const Snapshot& s) {
  return {{"id", s.id},         {"short_id", s.id.substr(0, 8)}, {"time", FormatRfc3339(s.time_ns)},
          {"hostname", s.hostname}, {"paths", s.paths},          {"tags", s.tags}};
}
}  // namespace

std::string ForgetJson(const std::string& policy, const std::vector<ForgetGroupResult>& groups,
                       const std::vector<Snapshot>& explicit_ids, bool dry_run, size_t removed) {
  json out = {{"policy", policy}, {"dry_run", dry_run}, {"removed", removed}};
  json list = json::array();
  for (const auto& g : groups) {
    json snaps = json::array();
    for (const auto& d : g.decisions) {
      json s = SnapshotBrief(g.group.snapshots[d.index]);
      s["action"] = d.keep ? "keep" : "remove";
      s["reasons"] = d.reasons;
      snaps.push_back(std::move(s));
    }
    json key = json::object();
    if (!g.group.hostname.empty()) key["hostname"] = g.group.hostname;
    if (!g.group.paths.empty()) key["paths"] = g.group.paths;
    if (!g.group.tags.empty()) key["tags"] = g.group.tags;
    list.push_back({{"group", key}, {"snapshots", snaps}});
  }
  out["groups"] = list;
  json ids = json::array();
  for (const auto& s : explicit_ids) {
    json b = SnapshotBrief(s);
    b["action"] = "remove";
    b["reasons"] = json::array({"given by id"});
    ids.push_back(std::move(b));
  }
  out["by_id"] = ids;
  return Dump(out);
}

std::string PruneJson(const PruneStats& s, bool dry_run) {
  json j = {{"dry_run", dry_run},
            {"snapshots", s.snapshots},
            {"packs", s.packs},
            {"packs_used", s.packs_used},
            {"packs_partly_used", s.packs_partly_used},
            {"packs_unused", s.packs_unused},
            {"packs_unindexed", s.packs_unindexed},
            {"bytes_used", s.bytes_used},
            {"bytes_unused", s.bytes_unused},
            {"packs_repacked", s.packs_repacked},
            {"blobs_repacked", s.blobs_repacked},
            {"bytes_repacked", s.bytes_repacked},
            {"packs_marked", s.packs_marked},
            {"packs_deleted", s.packs_deleted},
            {"packs_resurrected", s.packs_resurrected},
            {"marks_pending", s.marks_pending},
            {"leftovers_removed", s.leftovers_removed},
            {"leftover_bytes_removed", s.leftover_bytes_removed},
            {"leftovers_kept", s.leftovers_kept},
            {"waiting_for_jobs", s.waiting_for},
            {"notices", s.notices}};
  return Dump(j);
}

std::string IndexRepairJson(const IndexRepairStats& s) {
  return Dump({{"message_type", "summary"},
               {"packs", s.packs},
               {"blobs", s.blobs},
               {"index_files_written", s.index_files_written},
               {"index_files_removed", s.index_files_removed},
               {"packs_unreadable", s.unreadable}});
}

std::string UnlockJson(const std::vector<LockInfo>& removed, size_t kept) {
  json list = json::array();
  for (const auto& l : removed)
    list.push_back({{"hostname", l.hostname}, {"pid", l.pid}, {"command", l.command},
                    {"exclusive", l.exclusive}, {"started", FormatRfc3339(l.started_ns)},
                    {"refreshed", FormatRfc3339(l.refreshed_ns)}});
  return Dump({{"removed", list}, {"kept", kept}});
}

namespace {

json JobJson(const trace::JobRecord& r) {
  return {{"job_id", r.job_id},
          {"trace_id", r.trace_id},
          {"kind", r.kind},
          {"start", FormatRfc3339(r.start_ns)},
          {"duration_s", static_cast<double>(r.end_ns - r.start_ns) / 1e9},
          {"status", r.status},
          {"error_type", r.error_type},
          {"repository", r.repository},
          {"host", r.host},
          {"snapshot_id", r.snapshot_id},
          {"bytes_read", r.bytes_read},
          {"bytes_added", r.bytes_added},
          {"bytes_stored", r.bytes_stored},
          {"tags", r.tags}};
}

json AttrsObject(const trace::Attributes& attrs) {
  json out = json::object();
  for (const auto& a : attrs) {
    std::visit([&](const auto& v) { out[a.key] = v; }, a.value);
  }
  return out;
}

}  // namespace

std::string JobsJson(const std::vector<trace::JobRecord>& jobs) {
  json out = json::array();
  for (const auto& r : jobs) out.push_back(JobJson(r));
  return Dump(out);
}

std::string TraceJson(const std::vector<trace::JobRecord>& jobs, const std::vector<trace::SpanData>& spans) {
  json j = {{"trace_id", jobs.empty() ? "" : jobs[0].trace_id}, {"jobs", json::array()}, {"spans", json::array()}};
  for (const auto& r : jobs) j["jobs"].push_back(JobJson(r));
  for (const auto& s : spans) {
    json events = json::array();
    for (const auto& e : s.events)
      events.push_back({{"name", e.name}, {"time", FormatRfc3339(e.time_ns)}, {"attributes", AttrsObject(e.attributes)}});
    j["spans"].push_back({{"span_id", trace::ToHex(s.span_id)},
                          {"parent_span_id", s.is_root() ? "" : trace::ToHex(s.parent_span_id)},
                          {"name", s.name},
                          {"start", FormatRfc3339(s.start_ns)},
                          {"duration_s", static_cast<double>(s.end_ns - s.start_ns) / 1e9},
                          {"status", s.status == trace::StatusCode::kError ? "error"
                                     : s.status == trace::StatusCode::kOk  ? "ok"
                                                                           : "unset"},
                          {"status_message", s.status_message},
                          {"attributes", AttrsObject(s.attributes)},
                          {"events", std::move(events)}});
  }
  return Dump(j);
}

}  // namespace backspan::cli
