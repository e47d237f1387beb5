#include "observatory/store/trace_chunk.h"

#include <algorithm>

#include "compress/compressor.h"
#include "observatory/access/otlp_scope.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace backspan::observatory {

namespace tracepb = opentelemetry::proto::trace::v1;

void CompressChunk(const std::string& raw, TraceChunk* chunk) {
  thread_local Bytes scratch;
  size_t n = CompressBlob(CompressionMode::kAuto, ByteView(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()), &scratch);
  if (n == 0) {
    chunk->body = raw;
    chunk->raw_length = 0;
  } else {
    chunk->body.assign(reinterpret_cast<const char*>(scratch.data()), n);
    chunk->raw_length = raw.size();
  }
}

Result<std::vector<trace::SpanId>> SpansOutsideScope(std::string_view resource_spans, const Scope& scope) {
  tracepb::ResourceSpans rs;
  if (resource_spans.size() > static_cast<size_t>(INT32_MAX) ||
      !rs.ParseFromArray(resource_spans.data(), static_cast<int>(resource_spans.size())))
    return Status::Corruption("a stored span chunk does not parse");
  std::vector<trace::SpanId> out;
  for (const auto& ss : rs.scope_spans())
    for (const auto& span : ss.spans())
      if (!ScopeAllowsSpan(scope, rs.resource().attributes(), span.attributes()))
        out.push_back(trace::IdFromBytes<8>(span.span_id()));
  return out;
}

Result<std::string> SpansInScope(std::string_view resource_spans, const Scope& scope, std::set<trace::SpanId>* hidden) {
  tracepb::ResourceSpans rs;
  if (resource_spans.size() > static_cast<size_t>(INT32_MAX) ||
      !rs.ParseFromArray(resource_spans.data(), static_cast<int>(resource_spans.size())))
    return Status::Corruption("a stored span chunk does not parse");
  bool any = false, dropped = false;
  for (auto& ss : *rs.mutable_scope_spans()) {
    auto* spans = ss.mutable_spans();
    for (int i = spans->size() - 1; i >= 0; --i) {
      if (ScopeAllowsSpan(scope, rs.resource().attributes(), spans->Get(i).attributes())) {
        any = true;
        continue;
      }
      hidden->insert(trace::IdFromBytes<8>(spans->Get(i).span_id()));
      spans->DeleteSubrange(i, 1);
      dropped = true;
    }
  }
  if (!any) return std::string();
  return dropped ? rs.SerializeAsString() : std::string(resource_spans);
}

Result<std::string> ChunkResourceSpans(const TraceChunk& chunk) {
  if (chunk.raw_length == 0) return chunk.body;
  auto inflated = DecompressBlob(ByteView(reinterpret_cast<const uint8_t*>(chunk.body.data()), chunk.body.size()),
                                 chunk.raw_length);
  if (!inflated.ok()) return inflated.status();
  return std::string(inflated->begin(), inflated->end());
}

bool DropSpans(TraceChunk* chunk, const std::vector<trace::SpanId>& drop) {
  auto raw = ChunkResourceSpans(*chunk);
  if (!raw.ok()) return false;
  tracepb::ResourceSpans rs;
  if (!rs.ParseFromString(*raw)) return false;
  chunk->span_ids.clear();
  chunk->span_count = 0;
  chunk->start_ns = INT64_MAX;
  for (auto& ss : *rs.mutable_scope_spans()) {
    auto* spans = ss.mutable_spans();
    for (int i = spans->size() - 1; i >= 0; --i)
      if (std::find(drop.begin(), drop.end(), trace::IdFromBytes<8>(spans->Get(i).span_id())) != drop.end())
        spans->DeleteSubrange(i, 1);
    for (const auto& span : *spans) {
      chunk->span_ids.push_back(trace::IdFromBytes<8>(span.span_id()));
      chunk->span_count++;
      chunk->start_ns = std::min(chunk->start_ns, static_cast<int64_t>(span.start_time_unix_nano()));
    }
  }
  if (chunk->span_count == 0) return false;
  CompressChunk(rs.SerializeAsString(), chunk);
  return true;
}

Status TraceAssembler::Keep(std::string_view spans, std::vector<std::string>* into) {
  stored_ = true;
  if (scope_.AllowsEverything()) {
    into->emplace_back(spans);
    return Status::Ok();
  }
  auto visible = SpansInScope(spans, scope_, &hidden_);
  if (!visible.ok()) return visible.status().WithContext("trace " + trace::ToHex(id_));
  if (!visible->empty()) into->push_back(std::move(*visible));
  return Status::Ok();
}

Status TraceAssembler::AddChunk(std::string_view body, uint64_t raw_length) {
  if (raw_length == 0) return Keep(body, &out_.finished);
  auto raw = DecompressBlob(ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size()), raw_length);
  if (!raw.ok()) return Status::Corruption("a stored span chunk of trace " + trace::ToHex(id_) + " is damaged");
  return Keep(std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()), &out_.finished);
}

Status TraceAssembler::AddLive(std::string_view body) { return Keep(body, &out_.live); }

Result<StoredTrace> TraceAssembler::Finish() {
  if (!stored_) return Status::NotFound("no trace " + trace::ToHex(id_));
  out_.hidden = static_cast<int64_t>(hidden_.size());
  return std::move(out_);
}

}  // namespace backspan::observatory
