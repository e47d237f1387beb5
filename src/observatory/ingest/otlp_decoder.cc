#include "observatory/ingest/otlp_decoder.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "google/rpc/status.pb.h"
#include "observatory/ingest/otlp_json_request.h"
#include "observatory/access/otlp_scope.h"
#include "observatory/store/trace_chunk.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "trace/job_summary.h"
#include "trace/semconv.h"

namespace backspan::observatory {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace tracepb = opentelemetry::proto::trace::v1;
namespace collector = opentelemetry::proto::collector::trace::v1;
using KeyValues = google::protobuf::RepeatedPtrField<common::KeyValue>;

template <size_t N>
bool IsValidId(const std::string& raw) {
  if (raw.size() != N) return false;
  return std::any_of(raw.begin(), raw.end(), [](char c) { return c != 0; });
}

// Why a span cannot be stored, or "" if it can.
std::string CheckSpan(const tracepb::Span& s, const SpanLimits& limits, bool in_progress) {
  if (!IsValidId<16>(s.trace_id()))
    return s.trace_id().size() == 16 ? "trace_id is all zeros" : "trace_id is not 16 bytes (32 hex digits)";
  if (!IsValidId<8>(s.span_id()))
    return s.span_id().size() == 8 ? "span_id is all zeros" : "span_id is not 8 bytes (16 hex digits)";
  if (!s.parent_span_id().empty() && s.parent_span_id().size() != 8)
    return "parent_span_id is not 8 bytes (16 hex digits)";
  if (s.start_time_unix_nano() == 0) return "start_time_unix_nano is missing";
  if (s.start_time_unix_nano() > static_cast<uint64_t>(INT64_MAX) || s.end_time_unix_nano() > static_cast<uint64_t>(INT64_MAX))
    return "a timestamp is out of range";
  if (!in_progress && s.end_time_unix_nano() < s.start_time_unix_nano())
    return "end_time_unix_nano is before start_time_unix_nano";
  if (s.name().size() > limits.max_name_bytes) return "the span name is longer than " + std::to_string(limits.max_name_bytes) + " bytes";
  if (static_cast<size_t>(s.attributes_size()) > limits.max_attributes)
    return std::to_string(s.attributes_size()) + " attributes, more than the limit of " + std::to_string(limits.max_attributes);
  if (static_cast<size_t>(s.events_size()) > limits.max_events)
    return std::to_string(s.events_size()) + " events, more than the limit of " + std::to_string(limits.max_events);
  if (static_cast<size_t>(s.links_size()) > limits.max_links)
    return std::to_string(s.links_size()) + " links, more than the limit of " + std::to_string(limits.max_links);
  for (const auto& e : s.events())
    if (static_cast<size_t>(e.attributes_size()) > limits.max_attributes) return "an event has more attributes than the limit";
  for (const auto& l : s.links())
    if (static_cast<size_t>(l.attributes_size()) > limits.max_attributes) return "a link has more attributes than the limit";
  return "";
}

// Attributes that identify one run rather than a kind of job; never tags.
bool IsTagKey(const std::string& key) {
  static const char* const kNotTags[] = {semconv::kCicdPipelineTaskRunId, semconv::kSnapshotId, semconv::kSnapshotParent,
                                         semconv::kProcessCommand, semconv::kProcessCommandLine, semconv::kProcessExecutablePath,
                                         semconv::kRestoreTarget, semconv::kFilePath, semconv::kJobDeadline, semconv::kScheduleTick,
                                         // other systems' run ids, free text, times and links
                                         semconv::kJobId, semconv::kAzureBackupJobId, semconv::kAzureMonitorAlertId,
                                         semconv::kAzureMonitorAlertOriginId, semconv::kAzureMonitorAlertDescription,
                                         semconv::kAzureMonitorAlertInvestigationLink, semconv::kAzureBackupPossibleCauses,
                                         semconv::kAzureBackupRecommendedActions, semconv::kAzureMonitorLogQuery,
                                         semconv::kAzureMonitorConditionWindowStart, semconv::kAzureMonitorConditionWindowEnd,
                                         semconv::kAzureActivityLogCorrelationId, semconv::kAzureActivityLogEventTime,
                                         semconv::kAzureActivityLogTitle};
  for (const char* k : kNotTags)
    if (key == k) return false;
  return key.rfind(semconv::kTelemetrySdkPrefix, 0) != 0 && key.rfind(semconv::kExceptionPrefix, 0) != 0 && key.rfind(semconv::kProgressPrefix, 0) != 0 &&
         key.rfind(semconv::kAzureMonitorContextPrefix, 0) != 0;
}

// The attributes of a root span and its resource, flattened: the span's win.
class RootAttributes final : public trace::JobAttributes {
 public:
  RootAttributes(const KeyValues& resource, const KeyValues& span) {
    for (const auto& kv : resource) Add(kv);
    for (const auto& kv : span) Add(kv);
  }
  const common::AnyValue* Find(std::string_view key) const {
    auto it = values_.find(key);
    return it == values_.end() ? nullptr : it->second;
  }
  std::string Text(std::string_view key) const override {
    const common::AnyValue* v = Find(key);
    if (!v) return "";
    if (v->has_string_value()) return v->string_value();
    if (v->has_int_value()) return std::to_string(v->int_value());
    return "";
  }
  int64_t Int(std::string_view key) const override {
    const common::AnyValue* v = Find(key);
    if (!v) return 0;
    if (v->has_int_value()) return v->int_value();
    if (v->has_double_value()) return static_cast<int64_t>(v->double_value());
    return 0;
  }
  std::vector<std::string> List(std::string_view key) const {
    std::vector<std::string> out;
    const common::AnyValue* v = Find(key);
    if (v && v->has_array_value())
      for (const auto& item : v->array_value().values())
        if (item.has_string_value()) out.push_back(item.string_value());
    return out;
  }
  std::vector<Tag> Tags() const {
    std::vector<Tag> out;
    for (const auto& [k, v] : values_) {
      if (!IsTagKey(k)) continue;
      if (v->has_string_value() && !v->string_value().empty() && v->string_value().size() <= 256)
        out.emplace_back(k, v->string_value());
      else if (v->has_bool_value())
        out.emplace_back(k, v->bool_value() ? "true" : "false");
    }
    return out;  // sorted: values_ is a map
  }

 private:
  void Add(const common::KeyValue& kv) {
    if (kv.key().empty() || kv.key().size() > 256) return;
    values_[kv.key()] = &kv.value();
  }
  std::map<std::string, const common::AnyValue*, std::less<>> values_;
};

JobRecord MakeJob(const tracepb::Span& s, const KeyValues& resource, bool in_progress) {
  RootAttributes attrs(resource, s.attributes());
  trace::RootSpan root;
  root.name = s.name();
  root.start_ns = static_cast<int64_t>(s.start_time_unix_nano());
  root.end_ns = static_cast<int64_t>(s.end_time_unix_nano());
  root.error = s.status().code() == tracepb::Status::STATUS_CODE_ERROR;
  root.status_message = s.status().message();
  root.in_progress = in_progress;
  root.attributes = &attrs;
  trace::JobSummary summary = trace::SummarizeJob(root);
  JobRecord job;
  job.trace_id = trace::IdFromBytes<16>(s.trace_id());
  job.span_id = trace::IdFromBytes<8>(s.span_id());
  job.name = s.name();
  job.kind = std::move(summary.kind);
  job.status = std::move(summary.status);
  job.host = std::move(summary.host);
  job.service = std::move(summary.service);
  job.resource_group = std::move(summary.resource_group);
  job.start_ns = summary.start_ns;
  job.end_ns = summary.end_ns;
  job.bytes_added = summary.bytes_added;
  job.bytes_total = summary.bytes_total;
  job.files_total = summary.files_total;
  job.files_changed = summary.files_changed;
  job.bytes_read = summary.bytes_read;
  job.bytes_stored = summary.bytes_stored;
  job.deadline_ns = summary.deadline_ns;
  job.error_type = std::move(summary.error_type);
  job.error_message = std::move(summary.error_message);
  job.snapshot_id = std::move(summary.snapshot_id);
  job.tags = attrs.Tags();
  if (job.kind == "backup" || job.kind == semconv::kJobKindMissed) {
    // A source is what a schedule backs up: the same host, paths and tags.
    // A missed run lands on the source it should have backed up.
    job.source_key = SourceKey(job.host, job.service, attrs.List(semconv::kPaths), attrs.List(semconv::kTags),
                               &job.source_paths);
  }
  return job;
}

// A job is a root span, or a span that says it is one (backspan.job.kind):
// a backspan job run by a wrapper or a CI pipeline under TRACEPARENT, an
// alert shown in the trace of the backup job it is about.
bool IsJob(const tracepb::Span& s) {
  if (s.parent_span_id().empty() || !IsValidId<8>(s.parent_span_id())) return true;
  for (const auto& kv : s.attributes())
    if (kv.key() == semconv::kJobKind) return true;
  return false;
}

}  // namespace

Result<IngestBatch> DecodeTraceRequest(std::string_view body, WireFormat format, bool in_progress,
                                       const SpanLimits& limits, const Scope* write_scope) {
  // One arena for the request and the per-trace messages built from it:
  // parsing allocates per field, and moving spans between messages of one
  // arena is a pointer swap. Its blocks stay under the server's mmap
  // threshold (256 KiB, cmd_serve.cc): from the heap they are reused by the
  // next request, while blocks mapped afresh for every request cost a page
  // fault per 4 KiB and a TLB shootdown at unmap (half of ingest's time).
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = 64 << 10;
  arena_options.max_block_size = 128 << 10;
  google::protobuf::Arena arena(arena_options);
  auto& req = *google::protobuf::Arena::CreateMessage<collector::ExportTraceServiceRequest>(&arena);
  if (format == WireFormat::kProtobuf) {
    if (body.size() > static_cast<size_t>(INT32_MAX) || !req.ParseFromArray(body.data(), static_cast<int>(body.size())))
      return Status::InvalidArgument("the body is not a valid protobuf ExportTraceServiceRequest (truncated or malformed)");
  } else {
    std::string error;
    if (!ParseJsonTraceRequest(body, &req, &error)) return Status::InvalidArgument(error);
  }

  IngestBatch batch;
  for (auto& rs : *req.mutable_resource_spans()) {
    if (static_cast<size_t>(rs.resource().attributes_size()) > limits.max_attributes) {
      for (const auto& ss : rs.scope_spans()) batch.rejected += ss.spans_size();
      if (batch.rejection.empty()) batch.rejection = "a resource has more attributes than the limit of " + std::to_string(limits.max_attributes);
      continue;
    }
    // This request's spans of each trace, as a ResourceSpans of their own.
    std::unordered_map<std::string, tracepb::ResourceSpans*> by_trace;
    for (auto& ss : *rs.mutable_scope_spans()) {
      std::unordered_map<std::string, tracepb::ScopeSpans*> scope_of_trace;
      for (auto& span : *ss.mutable_spans()) {
        std::string why = CheckSpan(span, limits, in_progress);
        if (why.empty() && write_scope && !ScopeAllowsSpan(*write_scope, rs.resource().attributes(), span.attributes()))
          why = "its resource group and tags are outside the scopes the caller may write";
        if (!why.empty()) {
          if (batch.rejection.empty()) batch.rejection = "span \"" + span.name().substr(0, 64) + "\": " + why;
          batch.rejected++;
          continue;
        }
        batch.accepted++;
        if (IsJob(span)) batch.jobs.push_back(MakeJob(span, rs.resource().attributes(), in_progress));
        if (in_progress) {
          auto& one = *google::protobuf::Arena::CreateMessage<tracepb::ResourceSpans>(&arena);
          *one.mutable_resource() = rs.resource();
          tracepb::ScopeSpans* oss = one.add_scope_spans();
          *oss->mutable_scope() = ss.scope();
          oss->add_spans()->Swap(&span);
          LiveSpan live;
          live.trace_id = trace::IdFromBytes<16>(oss->spans(0).trace_id());
          live.span_id = trace::IdFromBytes<8>(oss->spans(0).span_id());
          live.start_ns = static_cast<int64_t>(oss->spans(0).start_time_unix_nano());
          live.body = one.SerializeAsString();
          batch.live.push_back(std::move(live));
          continue;
        }
        batch.finished.push_back(trace::IdFromBytes<8>(span.span_id()));
        const std::string& tid = span.trace_id();
        tracepb::ScopeSpans*& out_scope = scope_of_trace[tid];
        if (!out_scope) {
          tracepb::ResourceSpans*& out = by_trace[tid];
          if (!out) {
            out = google::protobuf::Arena::CreateMessage<tracepb::ResourceSpans>(&arena);
            *out->mutable_resource() = rs.resource();
            out->set_schema_url(rs.schema_url());
          }
          out_scope = out->add_scope_spans();
          *out_scope->mutable_scope() = ss.scope();
          out_scope->set_schema_url(ss.schema_url());
        }
        out_scope->add_spans()->Swap(&span);
      }
    }
    for (auto& [tid, out] : by_trace) {
      TraceChunk chunk;
      chunk.trace_id = trace::IdFromBytes<16>(tid);
      chunk.start_ns = INT64_MAX;
      for (const auto& ss : out->scope_spans())
        for (const auto& span : ss.spans()) {
          chunk.start_ns = std::min(chunk.start_ns, static_cast<int64_t>(span.start_time_unix_nano()));
          chunk.span_count++;
          chunk.span_ids.push_back(trace::IdFromBytes<8>(span.span_id()));
        }
      CompressChunk(out->SerializeAsString(), &chunk);
      batch.chunks.push_back(std::move(chunk));
    }
  }
  return batch;
}

std::string EncodeExportResponse(WireFormat format, int64_t rejected, const std::string& message) {
  if (format == WireFormat::kJson) {
    nlohmann::json j = nlohmann::json::object();
    if (rejected > 0 || !message.empty())
      j["partialSuccess"] = {{"rejectedSpans", std::to_string(rejected)}, {"errorMessage", message}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  collector::ExportTraceServiceResponse resp;
  if (rejected > 0 || !message.empty()) {
    resp.mutable_partial_success()->set_rejected_spans(rejected);
    resp.mutable_partial_success()->set_error_message(message);
  }
  return resp.SerializeAsString();
}

std::string EncodeRpcStatus(WireFormat format, int code, const std::string& message) {
  if (format == WireFormat::kJson) {
    return nlohmann::json({{"code", code}, {"message", message}, {"details", nlohmann::json::array()}})
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  google::rpc::Status st;
  st.set_code(code);
  st.set_message(message);
  return st.SerializeAsString();
}

}  // namespace backspan::observatory
