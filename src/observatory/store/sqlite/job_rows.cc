#include "observatory/store/sqlite/job_rows.h"

namespace backspan::observatory {


void BindWhere(const Where& where, sql::Stmt& st) {
  const auto& params = where.params();
  for (size_t i = 0; i < params.size(); ++i) {
    const int idx = static_cast<int>(i + 1);
    if (auto* n = std::get_if<int64_t>(&params[i])) st.Bind(idx, *n);
    else st.Bind(idx, std::get<std::string>(params[i]));
  }
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

TagIdLookup TagLookupOn(sql::Db& db) {
  return [&db](const Tag& tag) { return FindTagId(db, tag); };
}

bool AddScopeClause(sql::Db& db, const Scope& scope, Where& where, Status* error) {
  return AddScopeClause(scope, TagLookupOn(db), where, error);
}

}  // namespace backspan::observatory
