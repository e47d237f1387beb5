// The write rule, applied by the writer where every write lands: a caller
// may replace only what it may write. A span is replaced by a later span of
// the same trace and span id (the trace view shows the newest), an
// in-progress snapshot by a later one of the same span id, and a job's row
// by its end or a revision; so before a scoped caller's batch is applied,
// the stored versions of its span ids are read, and spans whose stored
// version lies outside the caller's scope are left out. Callers allowed
// everything (and the audit spans) skip all of this.
#include <algorithm>
#include <map>
#include <set>

#include "compress/compressor.h"
#include "observatory/store/trace_chunk.h"
#include "observatory/store/sqlite/sqlite_span_store_impl.h"

namespace backspan::observatory {
namespace {

// Adds to `out` the ids of `stored` (a serialized ResourceSpans) outside
// `scope` that are also in `incoming`.
Status AddForeign(std::string_view stored, const Scope& scope, const std::set<trace::SpanId>& incoming,
                  std::set<trace::SpanId>* out) {
  auto foreign = SpansOutsideScope(stored, scope);
  if (!foreign.ok()) return foreign.status();
  for (const auto& id : *foreign)
    if (incoming.count(id)) out->insert(id);
  return Status::Ok();
}

}  // namespace

Status SqliteSpanStore::Impl::RejectForeignReplacements(IngestBatch& batch, const Scope& caller, WriteOutcome* outcome) {
  if (caller.AllowsEverything()) return Status::Ok();
  // The batch's span ids, by trace.
  std::map<trace::TraceId, std::set<trace::SpanId>> incoming;
  for (const TraceChunk& c : batch.chunks) incoming[c.trace_id].insert(c.span_ids.begin(), c.span_ids.end());
  for (const LiveSpan& l : batch.live) incoming[l.trace_id].insert(l.span_id);
  for (const JobRecord& j : batch.jobs) incoming[j.trace_id].insert(j.span_id);

  std::set<trace::SpanId> foreign;
  sql::Stmt* chunks = wdb.Cached("SELECT raw_length, body FROM span_chunks WHERE trace_id = ?");
  sql::Stmt* live_by_trace = wdb.Cached("SELECT body FROM live_spans WHERE trace_id = ?");
  sql::Stmt* live_by_span = wdb.Cached("SELECT body FROM live_spans WHERE span_id = ?");
  sql::Stmt* job = wdb.Cached("SELECT kind, resource_group, tags FROM jobs WHERE start_ns = ? AND span_id = ? AND trace_id = ?");
  if (!chunks || !live_by_trace || !live_by_span || !job) return wdb.Error("preparing a statement");
  for (const auto& [tid, ids] : incoming) {
    chunks->BindBlob(1, tid.data(), tid.size());
    while (true) {
      auto row = chunks->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      const auto raw_length = static_cast<uint64_t>(chunks->Int(0));
      std::string_view body = chunks->Blob(1);
      Status s;
      if (raw_length == 0) {
        s = AddForeign(body, caller, ids, &foreign);
      } else {
        auto raw = DecompressBlob(ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), raw_length);
        s = raw.ok() ? AddForeign(std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()), caller, ids, &foreign)
                     : raw.status();
      }
      if (!s.ok()) return s.WithContext("trace " + trace::ToHex(tid));
    }
    chunks->Reset();
    live_by_trace->BindBlob(1, tid.data(), tid.size());
    while (true) {
      auto row = live_by_trace->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      if (Status s = AddForeign(live_by_trace->Blob(0), caller, ids, &foreign); !s.ok()) return s;
    }
    live_by_trace->Reset();
  }
  // In-progress snapshots are kept by span id alone: one of another trace
  // is replaced by a new snapshot, and retired by a finished span.
  std::set<trace::SpanId> by_span;
  for (const LiveSpan& l : batch.live) by_span.insert(l.span_id);
  if (live_count > 0) by_span.insert(batch.finished.begin(), batch.finished.end());
  for (const trace::SpanId& sid : by_span) {
    live_by_span->BindBlob(1, sid.data(), sid.size());
    auto row = live_by_span->Step();
    if (!row.ok()) return row.status();
    Status s = *row ? AddForeign(live_by_span->Blob(0), caller, {sid}, &foreign) : Status::Ok();
    live_by_span->Reset();
    if (!s.ok()) return s;
  }
  for (const JobRecord& j : batch.jobs) {
    const std::string tid = trace::IdBytes(j.trace_id), sid = trace::IdBytes(j.span_id);
    job->Bind(1, j.start_ns).BindBlob(2, sid.data(), sid.size()).BindBlob(3, tid.data(), tid.size());
    auto row = job->Step();
    if (!row.ok()) return row.status();
    if (*row && !caller.Allows(job->Text(1), TagsFromJson(job->Text(2)), job->Text(0) == "audit"))
      foreign.insert(j.span_id);
    job->Reset();
  }
  if (foreign.empty()) return Status::Ok();

  const std::vector<trace::SpanId> drop(foreign.begin(), foreign.end());
  auto dropped = [&](const trace::SpanId& id) { return foreign.count(id) > 0; };
  int64_t removed = 0;
  std::vector<TraceChunk> kept;
  for (TraceChunk& c : batch.chunks) {
    const auto n = std::count_if(c.span_ids.begin(), c.span_ids.end(), dropped);
    removed += n;
    if (n == 0 || DropSpans(&c, drop)) kept.push_back(std::move(c));
  }
  batch.chunks = std::move(kept);
  for (const LiveSpan& l : batch.live) removed += dropped(l.span_id);
  std::erase_if(batch.live, [&](const LiveSpan& l) { return dropped(l.span_id); });
  std::erase_if(batch.finished, dropped);
  std::erase_if(batch.jobs, [&](const JobRecord& j) { return dropped(j.span_id); });
  outcome->rejected += removed;
  outcome->rejected_spans.insert(outcome->rejected_spans.end(), drop.begin(), drop.end());
  if (outcome->rejection.empty())
    outcome->rejection = "span " + trace::ToHex(drop.front()) +
                         " would replace a stored span or job outside the scopes the caller may write";
  return Status::Ok();
}

}  // namespace backspan::observatory
