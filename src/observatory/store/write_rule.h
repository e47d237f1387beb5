// The write rule, as every store applies it where writes land: a caller
// may replace only what it may write. A span is replaced by a later span of
// the same trace and span id (the trace view shows the newest), an
// in-progress snapshot by a later one of the same span id, and a job's row
// by its end or a revision; so before a scoped caller's batch is applied,
// the store reads the stored versions of its span ids and hands them to
// this check, which leaves out the spans whose stored version lies outside
// the caller's scope. Callers allowed everything skip all of this.
#pragma once

#include <map>
#include <set>
#include <string_view>

#include "observatory/access/scope.h"
#include "observatory/store/records.h"
#include "observatory/store/span_store.h"
#include "util/status.h"

namespace backspan::observatory {

class ForeignReplacements {
 public:
  ForeignReplacements(const IngestBatch& batch, const Scope& caller);

  // The batch's span ids, by trace: the traces whose stored chunks and
  // in-progress snapshots the store reads.
  const std::map<trace::TraceId, std::set<trace::SpanId>>& incoming() const { return incoming_; }
  // The span ids whose in-progress snapshots (kept by span id alone, in
  // any trace) the store reads: the batch's snapshots, and with
  // `any_live_stored` the spans it finishes.
  std::set<trace::SpanId> LiveSpanIds(const IngestBatch& batch, bool any_live_stored) const;

  // A stored span chunk of trace `tid` (raw_length 0: not compressed).
  Status CheckChunk(const trace::TraceId& tid, std::string_view body, uint64_t raw_length);
  // A stored in-progress snapshot, of trace `tid` or of span `sid`.
  Status CheckLive(const trace::TraceId& tid, std::string_view body);
  Status CheckLiveSpan(const trace::SpanId& sid, std::string_view body);
  // The stored row of `job` (its kind, resource group and tags as JSON).
  void CheckJob(const JobRecord& job, std::string_view kind, std::string_view resource_group,
                const std::string& tags_json);

  // Leaves the foreign spans out of `batch`, counting them in `outcome`.
  void Apply(IngestBatch& batch, WriteOutcome* outcome) const;

 private:
  Status AddForeign(std::string_view stored, const std::set<trace::SpanId>& candidates);

  const Scope& caller_;
  std::map<trace::TraceId, std::set<trace::SpanId>> incoming_;
  std::set<trace::SpanId> foreign_;
};

}  // namespace backspan::observatory
