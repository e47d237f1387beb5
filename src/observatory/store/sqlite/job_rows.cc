#include "observatory/store/sqlite/job_rows.h"

namespace backspan::observatory {


std::string JobColumns(const std::string& alias) {
  std::string out;
  for (const char* c : {"id", "trace_id", "span_id", "name", "kind", "status", "host", "service", "resource_group",
                        "start_ns", "end_ns", "bytes_added", "bytes_total", "files_total", "error_type",
                        "error_message", "snapshot_id", "source_key", "source_paths", "tags", "updated_ns",
                        "files_changed", "bytes_read", "bytes_stored", "deadline_ns"})
    out += (out.empty() ? "" : ", ") + alias + c;
  return out;
}

JobRow ReadJob(sql::Stmt& row) {
  JobRow r;
  r.id = row.Int(0);
  r.trace_id = trace::IdFromBytes<16>(row.Blob(1));
  r.span_id = trace::IdFromBytes<8>(row.Blob(2));
  r.name = row.Text(3);
  r.kind = row.Text(4);
  r.status = row.Text(5);
  r.host = row.Text(6);
  r.service = row.Text(7);
  r.resource_group = row.Text(8);
  r.start_ns = row.Int(9);
  r.end_ns = row.Int(10);
  r.bytes_added = row.Int(11);
  r.bytes_total = row.Int(12);
  r.files_total = row.Int(13);
  r.error_type = row.Text(14);
  r.error_message = row.Text(15);
  r.snapshot_id = row.Text(16);
  r.source_key = row.Text(17);
  r.source_paths = row.Text(18);
  r.tags = TagsFromJson(row.Text(19));
  r.updated_ns = row.Int(20);
  r.files_changed = row.Int(21);
  r.bytes_read = row.Int(22);
  r.bytes_stored = row.Int(23);
  r.deadline_ns = row.Int(24);
  return r;
}

Result<int64_t> FindTagId(sql::Db& db, const Tag& tag) {
  sql::Stmt* st = db.Cached("SELECT id FROM tags WHERE key = ? AND value = ?");
  if (!st) return db.Error("preparing a query");
  st->Bind(1, tag.first).Bind(2, tag.second);
  auto row = st->Step();
  if (!row.ok()) return row.status();
  int64_t id = *row ? st->Int(0) : 0;
  st->Reset();
  return id;
}

bool AddScopeClause(sql::Db& db, const Scope& scope, Where& where, Status* error) {
  if (!scope.audit) where.Add("j.kind != 'audit'");
  if (scope.unrestricted) return true;
  std::string any;
  for (const auto& g : scope.resource_groups) {
    any += any.empty() ? "" : ", ";
    any += where.Param(g);
  }
  std::string clause = any.empty() ? "" : "j.resource_group COLLATE NOCASE IN (" + any + ")";
  std::string ids;
  for (const auto& sel : scope.selectors) {
    auto id = FindTagId(db, sel);
    if (!id.ok()) {
      *error = id.status();
      return false;
    }
    if (*id) {
      ids += ids.empty() ? "" : ", ";
      ids += std::to_string(*id);
    }
  }
  if (!ids.empty()) {
    if (!clause.empty()) clause += " OR ";
    clause += "EXISTS (SELECT 1 FROM job_tags s WHERE s.tag_id IN (" + ids + ") AND s.start_ns = j.start_ns AND s.job_id = j.id)";
  }
  if (clause.empty()) return false;
  where.Add("(" + clause + ")");
  return true;
}

}  // namespace backspan::observatory
