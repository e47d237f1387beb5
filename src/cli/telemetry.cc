#include "cli/telemetry.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/json_output.h"
#include "crypto/crypto.h"
#include "env/env.h"
#include "trace/batch_processor.h"
#include "trace/export/in_progress_reporter.h"
#include "trace/export/job_history.h"
#include "trace/export/spool.h"
#include "trace/export/otel_config.h"
#include "trace/export/otlp_http_exporter.h"
#include "trace/redactor.h"
#include "trace/semconv.h"
#include "util/time_format.h"
#include "version.h"

namespace backspan::cli {
namespace {

// The key that makes hashed values unguessable: BACKSPAN_TRACE_HASH_KEY if
// set (so several hosts hash alike), else a random key kept in the state dir.

// KEY=VALUE tags as attributes KEY = VALUE (malformed ones are skipped:
// commands validate their tags before a job starts).
trace::Attributes TagAttributes(const std::vector<std::string>& tags) {
  trace::Attributes out;
  for (const auto& t : tags) {
    auto eq = t.find('=');
    if (eq != std::string::npos) trace::SetAttribute(out, t.substr(0, eq), t.substr(eq + 1));
  }
  return out;
}

// How to send to `url` with the configured headers, protocol and compression.
trace::OtlpExporterOptions ExporterOptions(const trace::OtelConfig& c, std::string url) {
  trace::OtlpExporterOptions eo;
  eo.url = std::move(url);
  eo.headers = c.headers;
  eo.protocol = c.protocol;
  eo.gzip = c.gzip;
  eo.scope_version = BACKSPAN_VERSION;
  return eo;
}

}  // namespace

struct JobTelemetry::Pipeline {
  trace::Resource resource;
  std::unique_ptr<trace::SpanProcessor> processor;
  trace::BatchProcessor* otlp = nullptr;  // owned by `processor`
  std::string otlp_url;
  int64_t timeout_ns = 10'000'000'000;
  std::unique_ptr<trace::Spool> spool;  // when an agent collects the job's spans
  std::unique_ptr<trace::Tracer> tracer;
  std::unique_ptr<trace::InProgressReporter> in_progress;  // stopped before the tracer goes
};

trace::RedactionConfig RedactionConfigFor(const GlobalOptions& g, const std::string& state_dir) {
  const auto& o = g.trace;
  trace::RedactionConfig rc;
  if (auto a = trace::ParseRedactAction(o.paths); a.ok()) rc.paths = *a;
  else Warn(g, "--trace-paths: " + a.status().message());
  for (const auto& text : o.redact) {
    if (auto rule = trace::ParseRedactionRule(text); rule.ok()) rc.rules.push_back(*rule);
    else Warn(g, "--trace-redact: " + rule.status().message());
  }
  bool hashing = rc.paths == trace::RedactAction::kHash;
  for (const auto& rule : rc.rules) hashing = hashing || rule.action == trace::RedactAction::kHash;
  if (hashing) rc.hash_key = trace::LoadHashKey(Env::Default(), state_dir);
  return rc;
}

JobTelemetry::JobTelemetry(const GlobalOptions& g, const std::string& kind, const std::vector<std::string>& tags)
    : g_(g), pipeline_(std::make_unique<Pipeline>()) {
  Env* env = Env::Default();
  const TraceOptions& o = g.trace;
  auto config = trace::ReadOtelConfig([](const char* name) { return std::getenv(name); });
  if (!config.ok()) {
    Warn(g, "traces are not exported: " + config.status().message());
    config = trace::OtelConfig{};
  }
  trace::OtelConfig& c = *config;
  // Flags override the environment.
  if (!o.otlp_endpoint.empty()) c.traces_url = trace::TracesUrlFromBase(o.otlp_endpoint);
  if (!o.otlp_protocol.empty()) {
    if (auto p = trace::ParseOtlpProtocol(o.otlp_protocol); p.ok()) c.protocol = *p;
    else Warn(g, "--otlp-protocol: " + p.status().message());
  }
  if (!o.otlp_compression.empty()) c.gzip = o.otlp_compression == "gzip";
  if (!o.otlp_timeout.empty()) {
    if (auto d = ParseDuration(o.otlp_timeout)) c.timeout_ns = *d;
    else Warn(g, "--otlp-timeout must be a duration such as 10s");
  }
  for (const auto& h : o.otlp_headers) {
    auto eq = h.find('=');
    if (eq == std::string::npos) Warn(g, "--otlp-header must be KEY=VALUE, not '" + h + "'");
    else c.headers.emplace_back(h.substr(0, eq), h.substr(eq + 1));
  }
  // A job the agent runs hands its spans to the agent's spool, which
  // delivers them when the observatory answers (docs/agent.md).
  const char* spool_dir = std::getenv("BACKSPAN_OTLP_SPOOL");
  if (spool_dir && *spool_dir) {
    int64_t limit_mib = 256;
    if (const char* l = std::getenv("BACKSPAN_OTLP_SPOOL_LIMIT_MIB"); l && std::atoll(l) > 0) limit_mib = std::atoll(l);
    pipeline_->spool = std::make_unique<trace::Spool>(env, spool_dir, limit_mib << 20);
  }
  bool export_otlp = !c.sdk_disabled && !c.traces_url.empty() && !pipeline_->spool;
  if (export_otlp && !c.grpc_asked_by.empty() && o.otlp_protocol.empty())
    Warn(g, c.grpc_asked_by + "=grpc: OTLP over gRPC is not supported; sending http/" +
                (c.protocol == trace::OtlpProtocol::kJson ? "json" : "protobuf") + " to " + c.traces_url +
                " instead (an OpenTelemetry Collector takes OTLP/HTTP on port 4318)");
  int64_t progress_interval_ns = 15'000'000'000;
  std::string interval_text = o.otlp_progress_interval;
  if (interval_text.empty())
    if (const char* v = std::getenv("BACKSPAN_OTLP_PROGRESS_INTERVAL")) interval_text = v;
  if (interval_text == "0") progress_interval_ns = 0;
  else if (!interval_text.empty()) {
    if (auto d = ParseDuration(interval_text); d && *d > 0) progress_interval_ns = *d;
    else Warn(g, "--otlp-progress-interval must be a duration such as 30s, or 0");
  }
  std::string state_dir = o.state_dir.empty() ? trace::DefaultStateDir() : o.state_dir;

  // The resource: who ran the job, and the user's tags for slicing.
  trace::Resource& r = pipeline_->resource;
  r.attributes = c.resource_attributes;
  trace::SetAttribute(r.attributes, semconv::kServiceName, c.service_name);
  trace::SetAttribute(r.attributes, semconv::kServiceVersion, std::string(BACKSPAN_VERSION));
  trace::SetAttribute(r.attributes, semconv::kHostName, Hostname());
  trace::SetAttribute(r.attributes, semconv::kProcessPid, static_cast<int64_t>(getpid()));
  trace::SetAttribute(r.attributes, semconv::kOsType, std::string("linux"));
  for (auto& a : TagAttributes(tags)) trace::SetAttribute(r.attributes, a.key, std::move(a.value));

  // Where spans go: redaction first, then the history and the exporter.
  auto fanout = std::make_unique<trace::MultiProcessor>();
  bool any = false;
  if (!o.no_history) {
    fanout->Add(std::make_unique<trace::JobHistoryProcessor>(&r, state_dir, env));
    any = true;
  }
  if (export_otlp) {
    trace::OtlpExporterOptions eo = ExporterOptions(c, c.traces_url);
    const GlobalOptions* gp = &g;
    eo.log = [gp](const std::string& m) { Warn(*gp, "trace export: " + m); };
    trace::BatchOptions bo;
    bo.export_timeout_ns = c.timeout_ns;
    auto batch = std::make_unique<trace::BatchProcessor>(
        &r, std::make_unique<trace::OtlpHttpExporter>(std::move(eo), env), env, bo);
    pipeline_->otlp = batch.get();
    pipeline_->otlp_url = c.traces_url;
    fanout->Add(std::move(batch));
    any = true;
  }
  if (pipeline_->spool) {
    trace::BatchOptions bo;
    auto batch = std::make_unique<trace::BatchProcessor>(
        &r, std::make_unique<trace::SpoolExporter>(pipeline_->spool.get(), BACKSPAN_VERSION), env, bo);
    pipeline_->otlp = batch.get();
    pipeline_->otlp_url = "spool " + pipeline_->spool->dir();
    fanout->Add(std::move(batch));
    any = true;
  }
  pipeline_->timeout_ns = c.timeout_ns;
  if (!any) return;  // tracing off: every span is a no-op

  trace::RedactionConfig rc = RedactionConfigFor(g, state_dir);
  // The resource leaves the process too: the same rules apply to it.
  trace::Redactor(rc).Apply(r.attributes);
  trace::Redactor snapshot_redactor(rc);
  pipeline_->processor =
      std::make_unique<trace::RedactionProcessor>(trace::Redactor(std::move(rc)), std::move(fanout));
  pipeline_->tracer = std::make_unique<trace::Tracer>(pipeline_->processor.get(), env);

  trace::SpanContext parent;
  if (const char* tp = std::getenv("TRACEPARENT"); tp && *tp) {
    const char* ts = std::getenv("TRACESTATE");
    if (auto ctx = trace::SpanContext::FromTraceparent(tp, ts ? ts : "")) parent = *ctx;
    else Warn(g, "ignoring TRACEPARENT '" + std::string(tp) + "': not a W3C traceparent");
  }
  root_ = pipeline_->tracer->StartSpan(kind, parent);
  root_.SetAttribute(semconv::kJobKind, kind);
  root_.SetAttribute(semconv::kCicdPipelineTaskName, kind);
  root_.SetAttribute(semconv::kCicdPipelineTaskRunId, trace::ToHex(root_.context().span_id));
  root_.SetAttribute(semconv::kHostName, Hostname());
  SetTagAttributes(tags);
  if (!tags.empty()) root_.SetAttribute(semconv::kTags, trace::StringArray(tags));
  // Child processes (hooks, password commands) continue this trace.
  setenv("TRACEPARENT", root_.context().ToTraceparent().c_str(), 1);

  if (export_otlp && progress_interval_ns > 0) {
    trace::OtlpExporterOptions eo = ExporterOptions(c, trace::InProgressUrl(c.traces_url));
    eo.max_backoff_ns = 1'000'000'000;
    eo.log = [](const std::string&) {};  // a lost snapshot is replaced by the next one
    trace::InProgressOptions io;
    io.interval_ns = progress_interval_ns;
    io.first_delay_ns = std::min<int64_t>(progress_interval_ns, io.first_delay_ns);
    io.timeout_ns = std::min<int64_t>(c.timeout_ns, io.timeout_ns);
    pipeline_->in_progress = std::make_unique<trace::InProgressReporter>(
        pipeline_->tracer.get(), root_.context().span_id, &r, std::move(snapshot_redactor),
        std::make_unique<trace::OtlpHttpExporter>(std::move(eo), env), env, io);
  }
}

JobTelemetry::~JobTelemetry() { Finish(kExitFailure); }

std::string JobTelemetry::trace_id() const {
  return root_.recording() ? trace::ToHex(root_.context().trace_id) : "";
}

void JobTelemetry::Finish(int exit_code) {
  if (finished_) return;
  finished_ = true;
  if (!pipeline_->tracer) return;
  const char* result = exit_code == kExitOk           ? "success"
                       : exit_code == kExitUsage        ? "error"
                       : exit_code == kExitInterrupted  ? "cancellation"
                                                        : "failure";
  root_.SetAttribute(semconv::kCicdPipelineTaskRunResult, result);
  root_.SetAttribute(semconv::kProcessExitCode, exit_code);
  if (exit_code == kExitOk) root_.SetOk();
  else if (!error_recorded_) root_.RecordError(Status::Internal("the job failed with exit code " + std::to_string(exit_code)));
  if (uint64_t dropped = pipeline_->tracer->spans_dropped()) root_.SetAttribute(semconv::kSpansDropped, dropped);
  // No snapshot may follow the finished span.
  if (pipeline_->in_progress) pipeline_->in_progress->Stop();
  root_.End();
  Env* env = Env::Default();
  Status st = pipeline_->processor->Shutdown(env->MonotonicNanos() + pipeline_->timeout_ns);
  trace::BatchStats stats = pipeline_->otlp ? pipeline_->otlp->stats() : trace::BatchStats{};
  if (stats.dropped > 0) {
    // Said once, with the counts, instead of the exporter's own error.
    Warn(g_, std::to_string(stats.dropped) + " of " + std::to_string(stats.dropped + stats.exported) +
                 " spans could not be exported to " + pipeline_->otlp_url + ": " + stats.last_error.message());
  }
  // Anything else that failed, e.g. writing the job history.
  if (!st.ok() && (stats.dropped == 0 || st.message() != stats.last_error.message())) Warn(g_, st.message());
}

void JobTelemetry::SetTagAttributes(const std::vector<std::string>& tags) {
  for (const auto& a : TagAttributes(tags)) root_.SetAttribute(a.key, std::get<std::string>(a.value));
}

void JobTelemetry::SetProgressSource(std::function<void(trace::Attributes&)> source) {
  if (pipeline_->in_progress) pipeline_->in_progress->SetProgressSource(std::move(source));
}

void JobTelemetry::RecordError(const Status& error) {
  if (error.ok()) return;
  error_recorded_ = true;
  root_.RecordError(error);
}

const trace::Span& JobSpan(const GlobalOptions& g) {
  static const trace::Span kNone;
  return g.job ? g.job->root() : kNone;
}

}  // namespace backspan::cli
