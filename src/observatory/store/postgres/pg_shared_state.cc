// The documents replicas share (shared_state.h), one row each.
#include "observatory/store/postgres/postgres_span_store_impl.h"

namespace backspan::observatory {
namespace {

// Rows of (name, body, version, updated_ns).
std::vector<std::pair<std::string, SharedDocument>> Documents(const pg::Rows& rows) {
  std::vector<std::pair<std::string, SharedDocument>> out;
  for (int r = 0; r < rows.size(); ++r)
    out.emplace_back(std::string(rows.Text(r, 0)), SharedDocument{std::string(rows.Text(r, 1)), rows.Int(r, 2), rows.Int(r, 3)});
  return out;
}

}  // namespace

SharedState* PostgresSpanStore::Shared() { return &impl_->shared; }

Result<std::optional<SharedDocument>> PgSharedState::Get(const std::string& name) {
  PostgresSpanStore::Impl::Conn db(impl_);
  if (!db.status().ok()) return db.status();
  auto rows = db->Query("SELECT body, version, updated_ns FROM documents WHERE name = $1", {name});
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0) return std::optional<SharedDocument>();
  return std::optional<SharedDocument>(
      SharedDocument{std::string(rows->Text(0, 0)), rows->Int(0, 1), rows->Int(0, 2)});
}

Result<int64_t> PgSharedState::Put(const std::string& name, const std::string& body) {
  PostgresSpanStore::Impl::Conn db(impl_);
  if (!db.status().ok()) return db.status();
  return db->QueryInt(
      "INSERT INTO documents (name, body, version, updated_ns) VALUES ($1, $2, 1, $3) ON CONFLICT (name) DO UPDATE "
      "SET body = excluded.body, version = documents.version + 1, updated_ns = excluded.updated_ns RETURNING version",
      {name, body, std::to_string(impl_->env->NowUnixNanos())});
}

Result<bool> PgSharedState::Create(const std::string& name, const std::string& body) {
  PostgresSpanStore::Impl::Conn db(impl_);
  if (!db.status().ok()) return db.status();
  auto rows = db->Query("INSERT INTO documents (name, body, version, updated_ns) VALUES ($1, $2, 1, $3) "
                        "ON CONFLICT (name) DO NOTHING RETURNING version",
                        {name, body, std::to_string(impl_->env->NowUnixNanos())});
  if (!rows.ok()) return rows.status();
  return rows->size() == 1;
}

Result<bool> PgSharedState::Replace(const std::string& name, const std::string& body, int64_t version) {
  PostgresSpanStore::Impl::Conn db(impl_);
  if (!db.status().ok()) return db.status();
  auto rows = db->Query("UPDATE documents SET body = $2, version = version + 1, updated_ns = $3 "
                        "WHERE name = $1 AND version = $4 RETURNING version",
                        {name, body, std::to_string(impl_->env->NowUnixNanos()), std::to_string(version)});
  if (!rows.ok()) return rows.status();
  return rows->size() == 1;
}

Result<std::vector<std::pair<std::string, SharedDocument>>> PgSharedState::List(const std::string& prefix, int limit) {
  PostgresSpanStore::Impl::Conn db(impl_);
  if (!db.status().ok()) return db.status();
  auto rows = db->Query("SELECT name, body, version, updated_ns FROM documents WHERE left(name, length($1::text)) = $1::text "
                        "ORDER BY updated_ns DESC, name LIMIT $2",
                        {prefix, std::to_string(limit)});
  if (!rows.ok()) return rows.status();
  return Documents(*rows);
}

Result<std::vector<std::pair<std::string, SharedDocument>>> PgSharedState::ListAfter(const std::string& prefix,
                                                                                     const DocumentPosition& after,
                                                                                     int limit) {
  PostgresSpanStore::Impl::Conn db(impl_);
  if (!db.status().ok()) return db.status();
  auto rows = db->Query("SELECT name, body, version, updated_ns FROM documents WHERE left(name, length($1::text)) = $1::text "
                        "AND (updated_ns, name) > ($2::bigint, $3::text) ORDER BY updated_ns, name LIMIT $4",
                        {prefix, std::to_string(after.updated_ns), after.name, std::to_string(limit)});
  if (!rows.ok()) return rows.status();
  return Documents(*rows);
}

Status PgSharedState::Trim(const std::string& prefix, int keep) {
  PostgresSpanStore::Impl::Conn db(impl_);
  if (!db.status().ok()) return db.status();
  return db->Query("DELETE FROM documents WHERE name IN (SELECT name FROM documents WHERE left(name, length($1::text)) = $1::text "
                   "ORDER BY updated_ns DESC, name OFFSET $2)",
                   {prefix, std::to_string(keep)})
      .status();
}

Status PgSharedState::Enqueue(const std::string& queue, const std::vector<std::string>& bodies) {
  if (bodies.empty()) return Status::Ok();
  PostgresSpanStore::Impl::Conn db(impl_);
  if (!db.status().ok()) return db.status();
  return db->Query("INSERT INTO queued (queue, body) SELECT $1::text, b FROM unnest($2::text[]) WITH ORDINALITY AS u(b, i) "
                   "ORDER BY i",
                   {queue, pg::ArrayOf(bodies)})
      .status();
}

Result<std::vector<std::string>> PgSharedState::Dequeue(const std::string& queue, int max) {
  PostgresSpanStore::Impl::Conn db(impl_);
  if (!db.status().ok()) return db.status();
  auto rows = db->Query("WITH taken AS (DELETE FROM queued WHERE id IN (SELECT id FROM queued WHERE queue = $1 "
                        "ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id, body) "
                        "SELECT body FROM taken ORDER BY id",
                        {queue, std::to_string(max)});
  if (!rows.ok()) return rows.status();
  std::vector<std::string> out;
  for (int r = 0; r < rows->size(); ++r) out.emplace_back(rows->Text(r, 0));
  return out;
}

}  // namespace backspan::observatory
