// The jobs table as SQL sees it, shared by the store's writer, its queries,
// trends and aggregates: the columns and how a row reads back, tags as
// JSON, and WHERE clauses built with their bindings, the caller's Scope
// included.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "observatory/access/scope.h"
#include "observatory/store/job_fields.h"
#include "observatory/store/span_store.h"
#include "storage/sqlite.h"

namespace backspan::observatory {

// Builds a query's WHERE clause and its bindings together.
class Where {
 public:
  void Add(std::string clause) { clauses_.push_back(std::move(clause)); }
  template <typename T>
  std::string Param(T v) {
    params_.emplace_back(std::move(v));
    std::string p = "?";
    p += std::to_string(params_.size());
    return p;
  }
  std::string Sql() const {
    std::string out;
    for (const auto& c : clauses_) {
      out += out.empty() ? " WHERE " : " AND ";
      out += c;
    }
    return out;
  }
  void BindAll(sql::Stmt& st) const {
    for (size_t i = 0; i < params_.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      if (auto* n = std::get_if<int64_t>(&params_[i])) st.Bind(idx, *n);
      else st.Bind(idx, std::get<std::string>(params_[i]));
    }
  }

 private:
  std::vector<std::string> clauses_;
  std::vector<std::variant<int64_t, std::string>> params_;
};

// Runs `sql` with `where`'s bindings (if any) and calls fn(row) for each
// row until fn returns false.
template <typename Fn>
Status ForEachRow(sql::Db& db, const std::string& sql, const Where* where, Fn&& fn) {
  auto st = db.Prepare(sql);
  if (!st.ok()) return st.status();
  if (where) where->BindAll(*st);
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row || !fn(*st)) return Status::Ok();
  }
}

// tags.id of KEY=VALUE, or 0 if no job ever had it.
Result<int64_t> FindTagId(sql::Db& db, const Tag& tag);
// Adds the scope as SQL over jobs aliased `j`; false if nothing can match
// (or on error, then set in `error`).
bool AddScopeClause(sql::Db& db, const Scope& scope, Where& where, Status* error);

inline constexpr int64_t kHourNs = 3'600'000'000'000;
inline constexpr int64_t kDayNs = 24 * kHourNs;

// The jobs table's columns, each prefixed with `alias` (e.g. "j."), in the
// order ReadJob expects them.
std::string JobColumns(const std::string& alias = "");
JobRow ReadJob(sql::Stmt& row);


}  // namespace backspan::observatory
