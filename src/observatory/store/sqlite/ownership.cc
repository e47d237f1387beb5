// The write rule (store/write_rule.h) on SQLite: the writer reads the
// stored versions of a scoped caller's span ids before its batch is applied.
#include "observatory/store/write_rule.h"
#include "observatory/store/sqlite/sqlite_span_store_impl.h"

namespace backspan::observatory {

Status SqliteSpanStore::Impl::RejectForeignReplacements(IngestBatch& batch, const Scope& caller, WriteOutcome* outcome) {
  if (caller.AllowsEverything()) return Status::Ok();
  ForeignReplacements rule(batch, caller);
  sql::Stmt* chunks = wdb.Cached("SELECT raw_length, body FROM span_chunks WHERE trace_id = ?");
  sql::Stmt* live_by_trace = wdb.Cached("SELECT body FROM live_spans WHERE trace_id = ?");
  sql::Stmt* live_by_span = wdb.Cached("SELECT body FROM live_spans WHERE span_id = ?");
  sql::Stmt* job = wdb.Cached("SELECT kind, resource_group, tags FROM jobs WHERE start_ns = ? AND span_id = ? AND trace_id = ?");
  if (!chunks || !live_by_trace || !live_by_span || !job) return wdb.Error("preparing a statement");
  // Runs `st` (bound) and checks each row with `check`; resets it.
  auto each = [](sql::Stmt* st, auto check) -> Status {
    Status s;
    while (s.ok()) {
      auto row = st->Step();
      if (!row.ok()) s = row.status();
      else if (!*row) break;
      else s = check(*st);
    }
    st->Reset();
    return s;
  };
  for (const auto& incoming : rule.incoming()) {
    const trace::TraceId& tid = incoming.first;  // a lambda may not capture a structured binding (C++20)
    chunks->BindBlob(1, tid.data(), tid.size());
    Status s = each(chunks, [&](sql::Stmt& r) { return rule.CheckChunk(tid, r.Blob(1), static_cast<uint64_t>(r.Int(0))); });
    if (!s.ok()) return s;
    live_by_trace->BindBlob(1, tid.data(), tid.size());
    s = each(live_by_trace, [&](sql::Stmt& r) { return rule.CheckLive(tid, r.Blob(0)); });
    if (!s.ok()) return s;
  }
  for (const trace::SpanId& sid : rule.LiveSpanIds(batch, live_count > 0)) {
    live_by_span->BindBlob(1, sid.data(), sid.size());
    Status s = each(live_by_span, [&](sql::Stmt& r) { return rule.CheckLiveSpan(sid, r.Blob(0)); });
    if (!s.ok()) return s;
  }
  for (const JobRecord& j : batch.jobs) {
    const std::string tid = trace::IdBytes(j.trace_id), sid = trace::IdBytes(j.span_id);
    job->Bind(1, j.start_ns).BindBlob(2, sid.data(), sid.size()).BindBlob(3, tid.data(), tid.size());
    Status s = each(job, [&](sql::Stmt& r) {
      rule.CheckJob(j, r.Text(0), r.Text(1), r.Text(2));
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  rule.Apply(batch, outcome);
  return Status::Ok();
}

}  // namespace backspan::observatory
