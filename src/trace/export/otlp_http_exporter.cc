#include "trace/export/otlp_http_exporter.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "env/env.h"
#include "net/gzip.h"
#include "net/http_client.h"

namespace backspan::trace {

OtlpHttpExporter::OtlpHttpExporter(OtlpExporterOptions options, Env* env)
    : options_(std::move(options)), env_(env), rng_(std::random_device{}()) {}

void OtlpHttpExporter::Log(const std::string& message) const {
  if (options_.log) options_.log(message);
  else std::fprintf(stderr, "trace export: %s\n", message.c_str());
}

Status OtlpHttpExporter::Export(const Resource& resource, const std::vector<SpanData>& spans,
                                int64_t deadline_ns) noexcept {
  if (spans.empty()) return Status::Ok();
  const bool json = options_.protocol == OtlpProtocol::kJson;
  return Send(json ? EncodeOtlpJson(resource, options_.scope_version, spans)
                   : EncodeOtlpProtobuf(resource, options_.scope_version, spans),
              json, spans.size(), deadline_ns);
}

Status OtlpHttpExporter::ExportEncoded(std::string request, size_t span_count, int64_t deadline_ns) noexcept {
  if (span_count == 0) return Status::Ok();
  return Send(std::move(request), false, span_count, deadline_ns);
}

Status OtlpHttpExporter::Send(std::string body, bool json, size_t span_count, int64_t deadline_ns) noexcept {
  if (shut_down_) return Status::Unsupported("the exporter is shut down");
  net::HttpRequest req;
  req.url = options_.url;
  req.body = std::move(body);
  req.headers = options_.headers;
  req.headers.emplace_back("Content-Type", json ? "application/json" : "application/x-protobuf");
  req.headers.emplace_back("User-Agent", "backspan/" + options_.scope_version);
  if (options_.gzip) {
    req.body = Gzip(req.body);
    req.headers.emplace_back("Content-Encoding", "gzip");
  }

  int64_t backoff = options_.initial_backoff_ns;
  for (int attempt = 1;; attempt++) {
    int64_t left_ns = deadline_ns - env_->MonotonicNanos();
    if (left_ns <= 0) return Status::IOError(req.url + ": timed out before the spans were accepted");
    if (options_.attempt_timeout_ns > 0) left_ns = std::min(left_ns, options_.attempt_timeout_ns);
    req.timeout_ms = std::max<int64_t>(left_ns / 1'000'000, 1);
    auto resp = net::Send(req);
    int64_t wait_ns;
    std::string why;
    if (!resp.ok()) {
      why = resp.status().message();
      wait_ns = std::uniform_int_distribution<int64_t>(backoff / 2, backoff)(rng_);
    } else if (resp->status >= 200 && resp->status < 300) {
      auto decoded = json ? DecodeOtlpJsonResponse(resp->body) : DecodeOtlpProtobufResponse(resp->body);
      if (decoded.ok() && (decoded->rejected_spans > 0 || !decoded->error_message.empty())) {
        rejected_ += static_cast<uint64_t>(std::max<int64_t>(decoded->rejected_spans, 0));
        Log("partial success: the endpoint rejected " + std::to_string(decoded->rejected_spans) + " of " +
            std::to_string(span_count) + " spans: " + decoded->error_message);
      }
      return Status::Ok();
    } else {
      long code = resp->status;
      std::string message = json ? "" : DecodeOtlpProtobufErrorMessage(resp->body);
      if (message.empty()) message = resp->body.substr(0, 200);
      why = req.url + ": HTTP " + std::to_string(code) + (message.empty() ? "" : ": " + message);
      // 404 and 405 say the endpoint has no such path (e.g. an extension it lacks).
      if (code == 404 || code == 405) return Status::NotFound(why);
      if (code != 429 && code != 502 && code != 503 && code != 504) return Status::IOError(why);
      auto ra = resp->headers.find("retry-after");
      int64_t retry_after_s =
          ra == resp->headers.end() ? -1 : net::ParseRetryAfter(ra->second, env_->NowUnixNanos() / 1'000'000'000);
      wait_ns = retry_after_s >= 0 ? retry_after_s * 1'000'000'000
                                   : std::uniform_int_distribution<int64_t>(backoff / 2, backoff)(rng_);
    }
    if (shut_down_ || env_->MonotonicNanos() + wait_ns >= deadline_ns) {
      return Status::IOError(why + " (gave up after " + std::to_string(attempt) + " attempts)");
    }
    retries_++;
    std::this_thread::sleep_for(std::chrono::nanoseconds(wait_ns));
    backoff = std::min(backoff * 2, options_.max_backoff_ns);
  }
}

}  // namespace backspan::trace
