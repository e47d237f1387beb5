// SQL shared by the stores (SQLite and PostgreSQL): a WHERE clause built
// together with its bindings, in either dialect's placeholders, and the
// few phrases the dialects spell differently.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace backspan::observatory {

enum class SqlDialect { kSqlite, kPostgres };

// A bound value: an integer or text.
using SqlValue = std::variant<int64_t, std::string>;

// Builds a query's WHERE clause and its bindings together.
class Where {
 public:
  explicit Where(SqlDialect dialect = SqlDialect::kSqlite) : dialect_(dialect) {}

  void Add(std::string clause) { clauses_.push_back(std::move(clause)); }
  // Binds `v` and returns its placeholder (?N or $N).
  std::string Param(SqlValue v) {
    params_.push_back(std::move(v));
    std::string p(1, dialect_ == SqlDialect::kSqlite ? '?' : '$');
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
  const std::vector<SqlValue>& params() const { return params_; }
  SqlDialect dialect() const { return dialect_; }

 private:
  SqlDialect dialect_;
  std::vector<std::string> clauses_;
  std::vector<SqlValue> params_;
};

// "column IN (...)" comparing without ASCII case (Azure's resource groups),
// with `values` bound in `where`.
std::string CaseFoldedIn(Where& where, const std::string& column, const std::vector<std::string>& values);

// Whether any of `columns` contains `text`, without ASCII case.
std::string AnyContains(Where& where, const std::vector<std::string>& columns, const std::string& text);

}  // namespace backspan::observatory
