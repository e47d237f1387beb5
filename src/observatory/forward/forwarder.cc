#include "observatory/forward/forwarder.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "env/env.h"
#include "observatory/forward/otlp_redaction.h"
#include "observatory/store/trace_chunk.h"
#include "trace/export/otlp_encoding.h"
#include "trace/export/otlp_http_exporter.h"

namespace backspan::observatory {
namespace {

constexpr size_t kBatchBytes = 1 << 20;      // compressed, taken off the queue at once
constexpr uint32_t kBatchSpans = 4096;
constexpr int64_t kSendDeadlineNs = 30'000'000'000;  // retries of one batch, then it is failed
constexpr int64_t kAttemptNs = 5'000'000'000;        // one request to a silent destination
constexpr int64_t kDrainNs = 5'000'000'000;          // at shutdown
constexpr int64_t kLogEveryNs = 60'000'000'000;

// One queued piece: a stored chunk (compressed ResourceSpans, redacted when
// sent) or spans the server made, already redacted and encoded.
struct Item {
  std::shared_ptr<const TraceChunk> chunk;
  std::shared_ptr<const std::string> request;  // an encoded ExportTraceServiceRequest
  uint32_t spans = 0;
  size_t bytes = 0;
};

// Appends `resource_spans` as field 1 of an ExportTraceServiceRequest.
void AppendResourceSpans(const std::string& resource_spans, std::string* request) {
  request->push_back('\x0a');
  uint64_t n = resource_spans.size();
  while (n >= 0x80) {
    request->push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  request->push_back(static_cast<char>(n));
  request->append(resource_spans);
}

}  // namespace

class Forwarding::Destination {
 public:
  Destination(ForwardDestination d, const trace::Redactor* redactor, const std::string& version, Env* env)
      : d_(std::move(d)), redactor_(redactor), env_(env), exporter_(ExporterOptions(d_, version), env) {
    thread_ = std::thread([this] { Run(); });
  }

  ~Destination() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      drain_until_ns_ = env_->MonotonicNanos() + kDrainNs;
    }
    cv_.notify_all();
    {
      // Past the drain deadline, the retries of the batch in flight stop too.
      std::unique_lock lock(mu_);
      if (!done_cv_.wait_for(lock, std::chrono::nanoseconds(kDrainNs), [&] { return done_; })) exporter_.Shutdown();
    }
    thread_.join();
  }

  void Push(const Item& item) {
    {
      std::lock_guard lock(mu_);
      if (stop_ || queued_bytes_ + item.bytes > d_.queue_bytes) {
        dropped_ += item.spans;
        return;
      }
      queue_.push_back(item);
      queued_bytes_ += item.bytes;
      queued_ += item.spans;
    }
    cv_.notify_one();
  }

  ForwardStats stats() const {
    ForwardStats s;
    s.destination = d_.label;
    std::lock_guard lock(mu_);
    s.sent = sent_;
    s.rejected = exporter_.rejected_spans();
    s.failed = failed_;
    s.dropped = dropped_;
    s.retries = exporter_.retries();
    s.queued = queued_;
    s.queued_bytes = queued_bytes_;
    return s;
  }

 private:
  static trace::OtlpExporterOptions ExporterOptions(const ForwardDestination& d, const std::string& version) {
    trace::OtlpExporterOptions o;
    o.url = d.url;
    o.headers = d.headers;
    o.scope_version = version;
    o.gzip = true;
    o.attempt_timeout_ns = kAttemptNs;
    const std::string label = d.label;
    o.log = [label](const std::string& m) { std::fprintf(stderr, "forward %s: %s\n", label.c_str(), m.c_str()); };
    return o;
  }

  // Takes the next batch off the queue; false once stopped and drained (or
  // past the drain deadline, when what is left is failed).
  bool Take(std::vector<Item>* batch) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_ && (queue_.empty() || env_->MonotonicNanos() >= drain_until_ns_)) {
      failed_ += queued_;
      queue_.clear();
      queued_ = queued_bytes_ = 0;
      return false;
    }
    size_t bytes = 0;
    uint32_t spans = 0;
    while (!queue_.empty() && (batch->empty() || (bytes + queue_.front().bytes <= kBatchBytes &&
                                                  spans + queue_.front().spans <= kBatchSpans))) {
      bytes += queue_.front().bytes;
      spans += queue_.front().spans;
      batch->push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_bytes_ -= bytes;
    queued_ -= spans;
    return true;
  }

  void Run() {
    std::vector<Item> batch;
    while (Take(&batch)) Send(&batch);
    std::lock_guard lock(mu_);
    done_ = true;
    done_cv_.notify_all();
  }

  // Redacts and sends one batch (emptied), counting how it went.
  void Send(std::vector<Item>* batch) {
    std::string request;
    uint32_t spans = 0, bad = 0;
    for (const Item& item : *batch) {
      if (item.request) {
        request += *item.request;
        spans += item.spans;
        continue;
      }
      auto raw = ChunkResourceSpans(*item.chunk);
      auto redacted = raw.ok() ? RedactResourceSpans(*raw, *redactor_) : Result<std::string>(raw.status());
      if (!redacted.ok()) {
        bad += item.spans;
        Log(redacted.status().message());
        continue;
      }
      AppendResourceSpans(*redacted, &request);
      spans += item.spans;
    }
    batch->clear();
    int64_t deadline = env_->MonotonicNanos() + kSendDeadlineNs;
    {
      std::lock_guard lock(mu_);
      if (stop_) deadline = std::min(deadline, drain_until_ns_);
    }
    const uint64_t rejected_before = exporter_.rejected_spans();
    const Status s = exporter_.ExportEncoded(std::move(request), spans, deadline);
    if (!s.ok()) Log(s.message() + " (" + std::to_string(spans) + " spans not forwarded)");
    // Each span in exactly one result: what a partial success refused is
    // `rejected`, not `sent` too.
    const uint64_t rejected = std::min<uint64_t>(exporter_.rejected_spans() - rejected_before, spans);
    std::lock_guard lock(mu_);
    if (s.ok()) sent_ += spans - rejected;
    else failed_ += spans;
    failed_ += bad;
  }

  // A failing destination logs its first failure and then one a minute.
  void Log(const std::string& message) {
    const int64_t now = env_->MonotonicNanos();
    if (last_log_ns_ != 0 && now - last_log_ns_ < kLogEveryNs) return;
    last_log_ns_ = now;
    std::fprintf(stderr, "forward %s: %s\n", d_.label.c_str(), message.c_str());
  }

  const ForwardDestination d_;
  const trace::Redactor* redactor_;
  Env* env_;
  trace::OtlpHttpExporter exporter_;
  mutable std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::deque<Item> queue_;
  uint64_t queued_ = 0, queued_bytes_ = 0, sent_ = 0, failed_ = 0, dropped_ = 0;
  bool stop_ = false, done_ = false;
  int64_t drain_until_ns_ = 0;
  int64_t last_log_ns_ = 0;
  std::thread thread_;
};

Forwarding::Forwarding(std::vector<ForwardDestination> destinations, trace::RedactionConfig redaction,
                       std::string version, Env* env)
    : redactor_(std::move(redaction)), version_(std::move(version)) {
  for (auto& d : destinations)
    destinations_.push_back(std::make_unique<Destination>(std::move(d), &redactor_, version_, env));
}

Forwarding::~Forwarding() = default;

void Forwarding::Forward(std::vector<TraceChunk> chunks) noexcept {
  if (destinations_.empty()) return;
  for (TraceChunk& c : chunks) {
    Item item;
    item.spans = static_cast<uint32_t>(c.span_count);
    item.bytes = c.body.size();
    item.chunk = std::make_shared<const TraceChunk>(std::move(c));
    for (auto& d : destinations_) d->Push(item);
  }
}

void Forwarding::Forward(const trace::Resource& resource, std::vector<trace::SpanData> spans) noexcept {
  if (destinations_.empty() || spans.empty()) return;
  trace::Resource r = resource;
  redactor_.Apply(r.attributes);
  for (auto& s : spans) redactor_.Apply(s);
  Item item;
  item.request = std::make_shared<const std::string>(trace::EncodeOtlpProtobuf(r, version_, spans));
  item.spans = static_cast<uint32_t>(spans.size());
  item.bytes = item.request->size();
  for (auto& d : destinations_) d->Push(item);
}

std::vector<ForwardStats> Forwarding::stats() const {
  std::vector<ForwardStats> out;
  for (const auto& d : destinations_) out.push_back(d->stats());
  return out;
}

}  // namespace backspan::observatory
