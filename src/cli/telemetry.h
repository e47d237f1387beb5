// A job's trace: the root span and where its spans go (the local job
// history, and an OTLP endpoint if one is configured). Tracing never fails a
// job: a bad setting or an unreachable endpoint is a warning.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "trace/redactor.h"
#include "trace/tracer.h"

namespace backspan::cli {

struct GlobalOptions;

class JobTelemetry {
 public:
  // Starts the root span of a job of `kind` (backup, restore, ...), a child of
  // TRACEPARENT if the environment has one. `tags` (KEY=VALUE) become span
  // and resource attributes. Exports TRACEPARENT for child processes.
  JobTelemetry(const GlobalOptions& g, const std::string& kind, const std::vector<std::string>& tags);
  ~JobTelemetry();

  trace::Span& root() { return root_; }
  // The job's trace id in hex; empty if tracing is off.
  std::string trace_id() const;

  // Sets each KEY=VALUE tag as root span attribute KEY (e.g. a restored
  // snapshot's tags).
  void SetTagAttributes(const std::vector<std::string>& tags);

  // Sets what adds progress figures (files, bytes done) to the snapshots of
  // the running job sent to backspan serve; an empty function clears it and
  // must be set before what the source reads goes away.
  void SetProgressSource(std::function<void(trace::Attributes&)> source);

  // Records why the job failed on the root span (status ERROR, error.type).
  void RecordError(const Status& error);

  // Records the exit code on the root span (an error unless 0),
  // ends it, and flushes the spans within the export timeout. Reports spans
  // that could not be exported on stderr.
  void Finish(int exit_code);

 private:
  struct Pipeline;
  const GlobalOptions& g_;
  std::unique_ptr<Pipeline> pipeline_;
  trace::Span root_;
  bool finished_ = false;
  bool error_recorded_ = false;
};

// The redaction --trace-paths and --trace-redact ask for (bad values are
// warned about and ignored), hashing with the key kept in `state_dir`.
trace::RedactionConfig RedactionConfigFor(const GlobalOptions& g, const std::string& state_dir);

// The root span of the job that `g` runs, or a non-recording span.
const trace::Span& JobSpan(const GlobalOptions& g);

}  // namespace backspan::cli
