// Sends spans to an OTLP/HTTP endpoint (a collector, Jaeger, Tempo,
// Lightstep, or backspan serve), as protobuf or JSON, optionally gzipped.
//
// Retries, as the OTLP specification asks: exponential backoff with jitter
// on 429, 502, 503, 504 and on connection failures, honouring Retry-After;
// no retry on any other status. A partial success is not retried either;
// it is logged.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "trace/exporter.h"
#include "trace/export/otlp_encoding.h"

namespace backspan {
class Env;
}

namespace backspan::trace {

struct OtlpExporterOptions {
  std::string url;  // the full traces URL, e.g. http://127.0.0.1:4318/v1/traces
  std::vector<std::pair<std::string, std::string>> headers;
  OtlpProtocol protocol = OtlpProtocol::kProtobuf;
  bool gzip = false;
  std::string scope_version;           // backspan's version
  int64_t initial_backoff_ns = 500'000'000;
  int64_t max_backoff_ns = 5'000'000'000;
  // The longest one attempt may take (0: until the export's deadline), so
  // an endpoint that accepts and never answers is tried again.
  int64_t attempt_timeout_ns = 0;
  // Where warnings go (partial success, retries); stderr if unset.
  std::function<void(const std::string&)> log;
};

class OtlpHttpExporter final : public SpanExporter {
 public:
  OtlpHttpExporter(OtlpExporterOptions options, Env* env);
  Status Export(const Resource& resource, const std::vector<SpanData>& spans, int64_t deadline_ns) noexcept override;
  // Sends an ExportTraceServiceRequest already encoded as protobuf, of
  // `span_count` spans, by the same rules (the options' protocol aside).
  Status ExportEncoded(std::string request, size_t span_count, int64_t deadline_ns) noexcept;
  void Shutdown() noexcept override { shut_down_ = true; }

  uint64_t retries() const { return retries_; }
  uint64_t rejected_spans() const { return rejected_; }

 private:
  void Log(const std::string& message) const;
  Status Send(std::string body, bool json, size_t span_count, int64_t deadline_ns) noexcept;

  OtlpExporterOptions options_;
  Env* env_;
  std::mt19937_64 rng_;
  std::atomic<bool> shut_down_{false};
  std::atomic<uint64_t> retries_{0}, rejected_{0};
};

}  // namespace backspan::trace
