#include "observatory/ingest/audit_spans.h"

#include <cstdio>

#include "observatory/ingest/external_span_writer.h"
#include "trace/semconv.h"
#include "util/time_format.h"

namespace backspan::observatory {
namespace {

constexpr int64_t kDayNs = 86'400LL * 1'000'000'000;
constexpr size_t kMaxQueued = 100'000;  // beyond it, spans are dropped (the log itself has every record)

}  // namespace

std::vector<ExternalSpan> AuditSpans(const std::vector<audit::AuditRecord>& records) {
  std::vector<ExternalSpan> out;
  int64_t last_day = -1;
  for (const auto& r : records) {
    const int64_t day = r.time_ns / kDayNs * kDayNs;
    const std::string date = FormatRfc3339(day).substr(0, 10);
    const trace::TraceId tid = DerivedTraceId("audit-day", date);
    const trace::SpanId root_id = DerivedSpanId("audit-day", date);
    if (day != last_day) {
      last_day = day;
      ExternalSpan root;
      root.span.trace_id = tid;
      root.span.span_id = root_id;
      root.span.name = "audit " + date;
      root.span.start_ns = day;
      root.span.end_ns = day + kDayNs;
      trace::SetAttribute(root.span.attributes, semconv::kJobKind, std::string("audit"));
      trace::SetAttribute(root.resource.attributes, semconv::kServiceName, std::string("backspan-observatory"));
      out.push_back(std::move(root));
    }
    ExternalSpan s;
    s.span.trace_id = tid;
    s.span.span_id = DerivedSpanId("audit-record", r.hash);
    s.span.parent_span_id = root_id;
    s.span.name = r.action;
    s.span.start_ns = s.span.end_ns = r.time_ns;
    trace::Attributes& a = s.span.attributes;
    trace::SetAttribute(a, semconv::kEnduserId, r.subject);
    trace::SetAttribute(a, semconv::kAuditIssuer, r.issuer);
    if (!r.name.empty()) trace::SetAttribute(a, semconv::kAuditName, r.name);
    trace::SetAttribute(a, semconv::kAuditSeq, r.seq);
    trace::SetAttribute(a, semconv::kAuditHash, r.hash);
    trace::SetAttribute(a, semconv::kAuditResult, r.result);
    trace::SetAttribute(a, semconv::kAuditScope, r.scope);
    if (!r.detail.empty()) trace::SetAttribute(a, semconv::kAuditDetail, r.detail);
    trace::SetAttribute(a, semconv::kUrlPath, r.resource);
    trace::SetAttribute(a, semconv::kClientAddress, r.client);
    if (r.result != "allowed") {
      s.span.status = trace::StatusCode::kError;
      s.span.status_message = r.detail;
    }
    trace::SetAttribute(s.resource.attributes, semconv::kServiceName, std::string("backspan-observatory"));
    out.push_back(std::move(s));
  }
  return out;
}

AuditSpanWriter::AuditSpanWriter(ExternalSpanWriter* ingest) : ingest_(ingest), thread_([this] { Loop(); }) {}

AuditSpanWriter::~AuditSpanWriter() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void AuditSpanWriter::Push(const audit::AuditRecord& record) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (queue_.size() >= kMaxQueued) return;
    queue_.push_back(record);
  }
  cv_.notify_one();
}

void AuditSpanWriter::Loop() {
  while (true) {
    std::vector<audit::AuditRecord> batch;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && batch.size() < 1000) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    auto stored = ingest_->Store(AuditSpans(batch));
    if (!stored.ok()) std::fprintf(stderr, "warning: audit spans not stored: %s\n", stored.status().message().c_str());
  }
}

}  // namespace backspan::observatory
