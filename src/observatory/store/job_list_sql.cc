#include "observatory/store/job_list_sql.h"

#include <algorithm>
#include <cctype>

#include "trace/semconv.h"

namespace backspan::observatory {
namespace {

std::string EscapeLike(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string AsciiLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string CaseFoldedIn(Where& where, const std::string& column, const std::vector<std::string>& values) {
  std::string in;
  for (const auto& v : values) {
    in += in.empty() ? "" : ", ";
    in += where.Param(where.dialect() == SqlDialect::kSqlite ? v : AsciiLower(v));
  }
  if (where.dialect() == SqlDialect::kSqlite) return column + " COLLATE NOCASE IN (" + in + ")";
  // lower() folds more than ASCII in some locales; the values are folded the same way.
  return "lower(" + column + ") IN (" + in + ")";
}

std::string AnyContains(Where& where, const std::vector<std::string>& columns, const std::string& text) {
  // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE does.
  const std::string like = where.dialect() == SqlDialect::kSqlite ? " LIKE " : " ILIKE ";
  std::string pattern = EscapeLike(text);
  pattern.insert(pattern.begin(), '%');
  pattern.push_back('%');
  const std::string p = where.Param(std::move(pattern));
  std::string out = "(";
  for (const auto& c : columns) {
    if (out.size() > 1) out += " OR ";
    out += c;
    out += like;
    out += p;
    out += " ESCAPE '\\'";
  }
  out += ")";
  return out;
}

std::string JobColumns(const std::string& alias) {
  std::string out;
  for (const char* c : {"id", "trace_id", "span_id", "name", "kind", "status", "host", "service", "resource_group",
                        "start_ns", "end_ns", "bytes_added", "bytes_total", "files_total", "error_type",
                        "error_message", "snapshot_id", "source_key", "source_paths", "tags", "updated_ns",
                        "files_changed", "bytes_read", "bytes_stored", "deadline_ns"})
    out += (out.empty() ? "" : ", ") + alias + c;
  return out;
}

bool AddScopeClause(const Scope& scope, const TagIdLookup& find_tag, Where& where, Status* error) {
  if (!scope.audit) where.Add("j.kind != 'audit'");
  if (scope.unrestricted) return true;
  std::string clause = scope.resource_groups.empty() ? "" : CaseFoldedIn(where, "j.resource_group", scope.resource_groups);
  std::string ids;
  for (const auto& sel : scope.selectors) {
    auto id = find_tag(sel);
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

int64_t LostBefore(int64_t now_ns, int64_t lost_after_ns) {
  return lost_after_ns > 0 ? now_ns - lost_after_ns : INT64_MIN;
}

Result<JobListSql> BuildJobListSql(const JobQuery& q, const Scope& scope, int64_t lost_before_ns,
                                   const TagIdLookup& find_tag, SqlDialect dialect) {
  JobListSql out;
  out.where = Where(dialect);
  out.limit = std::clamp(q.limit, 1, 1000);
  out.lost_before_ns = lost_before_ns;
  Where& where = out.where;
  std::vector<Tag> tags = q.tags;
  if (!q.host.empty()) tags.emplace_back(semconv::kHostName, q.host);
  std::vector<int64_t> tag_ids;
  for (const auto& t : tags) {
    auto id = find_tag(t);
    if (!id.ok()) return id.status();
    if (*id == 0) return out;  // no job ever had this tag
    tag_ids.push_back(*id);
  }
  // With a tag, the first tag's index rows drive the query in time order;
  // `driving` holds the clauses on them, `where` those on the jobs.
  const std::string start = tag_ids.empty() ? "j.start_ns" : "t0.start_ns";
  const std::string id_col = tag_ids.empty() ? "j.id" : "t0.job_id";
  std::vector<std::string> driving;
  auto on_start = [&](std::string clause) {
    if (tag_ids.empty()) where.Add(std::move(clause));
    else driving.push_back(std::move(clause));
  };
  if (!tag_ids.empty()) driving.push_back("t0.tag_id = " + where.Param(tag_ids[0]));
  for (size_t i = 1; i < tag_ids.size(); ++i)
    where.Add("EXISTS (SELECT 1 FROM job_tags t WHERE t.tag_id = " + where.Param(tag_ids[i]) +
              " AND t.start_ns = j.start_ns AND t.job_id = j.id)");
  if (q.since_ns > 0) on_start(start + " >= " + where.Param(q.since_ns));
  if (q.until_ns < INT64_MAX) on_start(start + " < " + where.Param(q.until_ns));
  if (q.before_start_ns < INT64_MAX) {
    std::string bs = where.Param(q.before_start_ns);
    on_start("(" + start + " < " + bs + " OR (" + start + " = " + bs + " AND " + id_col + " < " +
             where.Param(q.before_id) + "))");
  }
  if (!q.kind.empty()) where.Add("j.kind = " + where.Param(q.kind));
  // Lost jobs are running ones whose last update is too old.
  if (q.status == semconv::kJobStatusLost) {
    where.Add("j.status = 'running' AND j.updated_ns < " + where.Param(lost_before_ns));
  } else if (q.status == semconv::kJobStatusRunning) {
    where.Add("j.status = 'running' AND j.updated_ns >= " + where.Param(lost_before_ns));
  } else if (!q.status.empty()) {
    where.Add("j.status = " + where.Param(q.status));
  }
  if (q.min_duration_ns >= 0) where.Add("j.end_ns - j.start_ns >= " + where.Param(q.min_duration_ns));
  if (q.max_duration_ns >= 0) where.Add("j.end_ns - j.start_ns <= " + where.Param(q.max_duration_ns));
  if (!q.text.empty()) where.Add(AnyContains(where, {"j.error_message", "j.error_type", "j.name"}, q.text));
  Status scope_error;
  if (!AddScopeClause(scope, find_tag, where, &scope_error)) {
    if (!scope_error.ok()) return scope_error;
    return out;
  }
  std::string from = "jobs j" + where.Sql();
  if (!tag_ids.empty()) {
    std::string drive;
    for (const auto& c : driving) drive += (drive.empty() ? " WHERE " : " AND ") + c;
    const std::string match = "j.start_ns = t0.start_ns AND j.id = t0.job_id";
    if (dialect == SqlDialect::kSqlite) {
      from = "job_tags t0 JOIN jobs j ON " + match + drive + (where.Sql().empty() ? "" : " AND" + where.Sql().substr(6));
    } else {
      // Each tag row looks up its job (a nested loop, in the tag index's
      // order, so the LIMIT stops it early). Joined plainly, or with a
      // subquery it may flatten (OFFSET 0 keeps it whole), PostgreSQL
      // misjudges the two-column match as near-empty and hashes every job.
      std::string inner = where.Sql();
      inner = inner.empty() ? " WHERE " + match : inner + " AND " + match;
      from = "job_tags t0 CROSS JOIN LATERAL (SELECT * FROM jobs j" + inner + " OFFSET 0) j" + drive;
    }
  }
  out.sql = "SELECT " + JobColumns("j.") + " FROM " + from + " ORDER BY " + start + " DESC, " + id_col + " DESC LIMIT " +
            std::to_string(out.limit + 1);
  return out;
}

bool AddListedJob(const JobListSql& list, JobRow row, JobPage* page) {
  if (static_cast<int>(page->jobs.size()) == list.limit) {
    page->more = true;
    return false;
  }
  if (row.status == semconv::kJobStatusRunning && row.updated_ns < list.lost_before_ns) row.status = semconv::kJobStatusLost;
  page->jobs.push_back(std::move(row));
  return true;
}

}  // namespace backspan::observatory
