#include "observatory/store/write_rule.h"

#include <algorithm>

#include "compress/compressor.h"
#include "observatory/store/job_fields.h"
#include "observatory/store/trace_chunk.h"

namespace backspan::observatory {

ForeignReplacements::ForeignReplacements(const IngestBatch& batch, const Scope& caller) : caller_(caller) {
  for (const TraceChunk& c : batch.chunks) incoming_[c.trace_id].insert(c.span_ids.begin(), c.span_ids.end());
  for (const LiveSpan& l : batch.live) incoming_[l.trace_id].insert(l.span_id);
  for (const JobRecord& j : batch.jobs) incoming_[j.trace_id].insert(j.span_id);
}

std::set<trace::SpanId> ForeignReplacements::LiveSpanIds(const IngestBatch& batch, bool any_live_stored) const {
  std::set<trace::SpanId> ids;
  for (const LiveSpan& l : batch.live) ids.insert(l.span_id);
  if (any_live_stored) ids.insert(batch.finished.begin(), batch.finished.end());
  return ids;
}

Status ForeignReplacements::AddForeign(std::string_view stored, const std::set<trace::SpanId>& candidates) {
  auto foreign = SpansOutsideScope(stored, caller_);
  if (!foreign.ok()) return foreign.status();
  for (const auto& id : *foreign)
    if (candidates.count(id)) foreign_.insert(id);
  return Status::Ok();
}

Status ForeignReplacements::CheckChunk(const trace::TraceId& tid, std::string_view body, uint64_t raw_length) {
  auto it = incoming_.find(tid);
  if (it == incoming_.end()) return Status::Ok();
  Status s;
  if (raw_length == 0) {
    s = AddForeign(body, it->second);
  } else {
    auto raw = DecompressBlob(ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), raw_length);
    s = raw.ok() ? AddForeign(std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()), it->second)
                 : raw.status();
  }
  return s.ok() ? s : s.WithContext("trace " + trace::ToHex(tid));
}

Status ForeignReplacements::CheckLive(const trace::TraceId& tid, std::string_view body) {
  auto it = incoming_.find(tid);
  return it == incoming_.end() ? Status::Ok() : AddForeign(body, it->second);
}

Status ForeignReplacements::CheckLiveSpan(const trace::SpanId& sid, std::string_view body) {
  return AddForeign(body, {sid});
}

void ForeignReplacements::CheckJob(const JobRecord& job, std::string_view kind, std::string_view resource_group,
                                   const std::string& tags_json) {
  if (!caller_.Allows(resource_group, TagsFromJson(tags_json), kind == "audit")) foreign_.insert(job.span_id);
}

void ForeignReplacements::Apply(IngestBatch& batch, WriteOutcome* outcome) const {
  if (foreign_.empty()) return;
  const std::vector<trace::SpanId> drop(foreign_.begin(), foreign_.end());
  auto dropped = [&](const trace::SpanId& id) { return foreign_.count(id) > 0; };
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
}

}  // namespace backspan::observatory
