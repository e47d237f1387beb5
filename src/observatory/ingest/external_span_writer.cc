#include "observatory/ingest/external_span_writer.h"

#include <algorithm>
#include <map>

#include "env/env.h"
#include "observatory/ingest/otlp_decoder.h"
#include "observatory/store/span_store.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "trace/export/otlp_encoding.h"
#include "trace/semconv.h"

namespace backspan::observatory {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace tracepb = opentelemetry::proto::trace::v1;
using KeyValues = google::protobuf::RepeatedPtrField<common::KeyValue>;

// A span's current version: stored, or made by this call.
struct Version {
  ExternalSpan es;
  bool changed = false;  // to be written
};
using TraceVersions = std::map<trace::SpanId, Version>;

trace::Attributes FromProto(const KeyValues& kvs) {
  trace::Attributes out;
  for (const auto& kv : kvs) {
    const common::AnyValue& v = kv.value();
    if (v.has_string_value()) out.push_back({kv.key(), v.string_value()});
    else if (v.has_bool_value()) out.push_back({kv.key(), v.bool_value()});
    else if (v.has_int_value()) out.push_back({kv.key(), static_cast<int64_t>(v.int_value())});
    else if (v.has_double_value()) out.push_back({kv.key(), v.double_value()});
    else if (v.has_array_value()) {
      trace::StringArray items;
      for (const auto& item : v.array_value().values())
        if (item.has_string_value()) items.push_back(item.string_value());
      out.push_back({kv.key(), std::move(items)});
    }
  }
  return out;
}

ExternalSpan FromProto(const tracepb::ResourceSpans& rs, const tracepb::Span& s, bool open) {
  ExternalSpan es;
  es.resource.attributes = FromProto(rs.resource().attributes());
  trace::SpanData& d = es.span;
  d.trace_id = trace::IdFromBytes<16>(s.trace_id());
  d.span_id = trace::IdFromBytes<8>(s.span_id());
  d.parent_span_id = trace::IdFromBytes<8>(s.parent_span_id());
  d.name = s.name();
  d.kind = static_cast<trace::SpanKind>(std::clamp<int>(s.kind(), 1, 5));
  d.start_ns = static_cast<int64_t>(s.start_time_unix_nano());
  d.end_ns = static_cast<int64_t>(s.end_time_unix_nano());
  d.attributes = FromProto(s.attributes());
  for (const auto& e : s.events())
    d.events.push_back({e.name(), static_cast<int64_t>(e.time_unix_nano()), FromProto(e.attributes())});
  d.status = static_cast<trace::StatusCode>(std::clamp<int>(s.status().code(), 0, 2));
  d.status_message = s.status().message();
  es.open = open;
  es.rank = VersionRank(d.attributes);
  for (const auto& a : d.attributes)
    if (a.key == semconv::kJobKind && std::get_if<std::string>(&a.value) && std::get<std::string>(a.value) == "alert")
      es.alert = true;
  return es;
}

// The stored versions of every span of a trace: the last finished version
// of each span, else its in-progress snapshot.
Result<TraceVersions> LoadTrace(SpanStore* store, const trace::TraceId& id) {
  TraceVersions out;
  auto stored = store->GetTrace(id, Scope::All());  // merging reads every version; the write rule judges
  if (!stored.ok()) {
    if (stored.status().code() == ErrorCode::kNotFound) return out;
    return stored.status();
  }
  auto add = [&](const std::string& body, bool open) {
    tracepb::ResourceSpans rs;
    if (!rs.ParseFromString(body)) return;
    for (const auto& ss : rs.scope_spans())
      for (const auto& s : ss.spans()) {
        ExternalSpan es = FromProto(rs, s, open);
        auto it = out.find(es.span.span_id);
        if (open && it != out.end()) continue;  // finished already
        out[es.span.span_id] = Version{std::move(es), false};
      }
  };
  for (const auto& body : stored->finished) add(body, false);
  for (const auto& body : stored->live) add(body, true);
  return out;
}

bool SameEvent(const trace::SpanEvent& a, const trace::SpanEvent& b) {
  return a.name == b.name && a.time_ns == b.time_ns && a.attributes.size() == b.attributes.size() &&
         std::equal(a.attributes.begin(), a.attributes.end(), b.attributes.begin(),
                    [](const trace::Attribute& x, const trace::Attribute& y) { return x.key == y.key && x.value == y.value; });
}

// Adds `events` that `to` does not have yet; whether it added any.
bool AddEvents(trace::SpanData& to, const std::vector<trace::SpanEvent>& events) {
  bool added = false;
  for (const auto& e : events) {
    bool known = std::any_of(to.events.begin(), to.events.end(), [&](const trace::SpanEvent& x) { return SameEvent(x, e); });
    if (known) continue;
    to.events.push_back(e);
    added = true;
  }
  if (added)
    std::stable_sort(to.events.begin(), to.events.end(), [](const auto& a, const auto& b) { return a.time_ns < b.time_ns; });
  return added;
}

// Sets each of `from` on `to`; whether anything changed.
bool MergeAttributes(trace::Attributes& to, const trace::Attributes& from) {
  bool changed = false;
  for (const auto& a : from) {
    const trace::AttributeValue* old = trace::FindAttribute(to, a.key);
    if (old && *old == a.value) continue;
    trace::SetAttribute(to, a.key, a.value);
    changed = true;
  }
  return changed;
}

// `next` merged onto `cur`: whether it changed anything. An open version
// never replaces a final one; the first start stays (it is the job's
// identity in the store).
bool Merge(ExternalSpan& cur, const ExternalSpan& next) {
  if ((!cur.open && next.open) || next.rank < cur.rank) return false;
  cur.rank = next.rank;
  trace::SpanData& d = cur.span;
  const trace::SpanData& n = next.span;
  bool changed = cur.open != next.open;
  cur.open = next.open;
  cur.alert = cur.alert || next.alert;
  if (!n.name.empty() && n.name != d.name) d.name = n.name, changed = true;
  if (d.start_ns == 0 && n.start_ns != 0) d.start_ns = n.start_ns, changed = true;
  if (n.end_ns != d.end_ns && (n.end_ns != 0 || next.open)) d.end_ns = n.end_ns, changed = true;
  if (d.end_ns != 0 && d.end_ns < d.start_ns) d.end_ns = d.start_ns;
  if (n.parent_span_id != d.parent_span_id) d.parent_span_id = n.parent_span_id, changed = true;
  changed |= MergeAttributes(d.attributes, n.attributes);
  changed |= MergeAttributes(cur.resource.attributes, next.resource.attributes);
  changed |= AddEvents(d, n.events);
  if (n.status != trace::StatusCode::kUnset && (n.status != d.status || n.status_message != d.status_message)) {
    d.status = n.status;
    d.status_message = n.status_message;
    changed = true;
  }
  return changed;
}

// How an item is named in a rejection: its job id, else its name.
std::string ItemName(const ExternalSpan& es) {
  for (const char* key : {semconv::kJobId, semconv::kAzureBackupJobId, semconv::kAzureMonitorAlertId})
    if (const trace::AttributeValue* v = trace::FindAttribute(es.span.attributes, key))
      return "'" + trace::AttributeText(*v).substr(0, 80) + "'";
  return "'" + (es.span.name.empty() ? trace::ToHex(es.span.span_id) : es.span.name.substr(0, 80)) + "'";
}

}  // namespace

Result<ExternalOutcome> ExternalSpanWriter::Store(const std::vector<ExternalSpan>& spans, const Scope& writer) {
  std::lock_guard<std::mutex> lock(mu_);
  return StoreLocked(spans, writer);
}

Result<ExternalOutcome> ExternalSpanWriter::AnnotateAlert(const trace::TraceId& trace_id, const trace::SpanId& span_id,
                                                      const trace::Attributes& attributes, const trace::SpanEvent& event,
                                                      const Scope& scope) {
  std::lock_guard<std::mutex> lock(mu_);
  auto versions = LoadTrace(store_, trace_id);
  if (!versions.ok()) return versions.status();
  auto it = versions->find(span_id);
  if (it == versions->end() || !it->second.es.alert) return Status::NotFound("no such alert");
  const ExternalSpan& stored = it->second.es;
  if (!ScopeAllowsAttributes(scope, stored.span.attributes)) return Status::NotFound("no such alert");
  ExternalSpan note;
  note.span.trace_id = trace_id;
  note.span.span_id = span_id;
  note.span.parent_span_id = stored.span.parent_span_id;
  note.span.attributes = attributes;
  note.span.events.push_back(event);
  note.alert = true;
  note.rank = stored.rank;  // a note, not a newer notification
  return StoreLocked({note}, scope);
}

Result<ExternalOutcome> ExternalSpanWriter::StoreLocked(const std::vector<ExternalSpan>& spans, const Scope& writer) {
  std::map<trace::TraceId, TraceVersions> traces;
  auto trace_of = [&](const trace::TraceId& id) -> Result<TraceVersions*> {
    auto it = traces.find(id);
    if (it != traces.end()) return &it->second;
    auto loaded = LoadTrace(store_, id);
    if (!loaded.ok()) return loaded.status();
    return &traces.emplace(id, std::move(*loaded)).first->second;
  };

  // Each item merged, and whether it changed its span.
  struct Item {
    const ExternalSpan* es;
    bool changed;
  };
  std::vector<Item> items;
  ExternalOutcome outcome;
  for (const ExternalSpan& next : spans) {
    auto tv = trace_of(next.span.trace_id);
    if (!tv.ok()) return tv.status();
    TraceVersions& versions = **tv;
    auto it = versions.find(next.span.span_id);
    bool changed;
    if (it == versions.end()) {
      ExternalSpan first = next;
      if (first.span.start_ns == 0) first.span.start_ns = first.span.end_ns;  // an end without a start
      if (first.span.start_ns == 0) {
        outcome.rejected.push_back(ItemName(next) + ": the job has not started here: send its started event, "
                                                    "or give its start_time, first");
        continue;
      }
      if (first.span.name.empty()) {
        const trace::AttributeValue* kind = trace::FindAttribute(first.span.attributes, semconv::kJobKind);
        first.span.name = kind ? trace::AttributeText(*kind) : "job";
      }
      it = versions.emplace(next.span.span_id, Version{std::move(first), false}).first;
      changed = true;
    } else {
      changed = Merge(it->second.es, next);
    }
    it->second.changed |= changed;
    items.push_back({&next, changed});
    Version& v = it->second;
    // Alerts and the jobs they are about mark each other, in either order.
    if (v.es.alert && !v.es.span.is_root()) {
      auto job = versions.find(v.es.span.parent_span_id);
      if (job != versions.end() && AddEvents(job->second.es.span, v.es.span.events)) job->second.changed = true;
    } else if (!v.es.alert) {
      for (auto& [id, other] : versions)
        if (other.es.alert && other.es.span.parent_span_id == v.es.span.span_id) v.changed |= AddEvents(v.es.span, other.es.span.events);
    }
  }

  // Spans that cannot be stored, and why.
  std::map<trace::SpanId, std::string> refused;
  IngestBatch batch;
  for (auto& [tid, versions] : traces)
    for (auto& [sid, v] : versions) {
      if (!v.changed) continue;
      ExternalSpan& es = v.es;
      if (!es.open && es.span.end_ns < es.span.start_ns) es.span.end_ns = es.span.start_ns;
      std::string body = trace::EncodeOtlpProtobuf(es.resource, "", {es.span});
      auto part = DecodeTraceRequest(body, WireFormat::kProtobuf, es.open);
      if (!part.ok() || part->rejected > 0) {
        refused[sid] = part.ok() ? part->rejection : part.status().message();
        continue;
      }
      for (auto& c : part->chunks) batch.chunks.push_back(std::move(c));
      for (auto& l : part->live) batch.live.push_back(std::move(l));
      for (auto& f : part->finished) batch.finished.push_back(f);
      for (auto& j : part->jobs) {
        j.revision = true;
        batch.jobs.push_back(std::move(j));
      }
      batch.accepted += part->accepted;
    }
  if (batch.accepted > 0) {
    auto written = store_->Write(std::move(batch), writer);
    if (!written.ok()) return written.status();
    for (const auto& id : written->rejected_spans)
      refused[id] = "it would change a job or alert outside the scopes the caller may write";
  }
  for (const Item& item : items) {
    auto why = refused.find(item.es->span.span_id);
    if (why != refused.end()) outcome.rejected.push_back(ItemName(*item.es) + ": " + why->second);
    else (item.changed ? outcome.stored : outcome.unchanged)++;
  }
  return outcome;
}

}  // namespace backspan::observatory
