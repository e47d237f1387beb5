// Audit records as spans in the observatory's own store, so the trace view
// shows who did what: one trace per UTC day, its root an "audit" job, each
// record a child span with enduser.id. Only callers who may read the audit
// log see them (Scope::audit). Written from a thread of its own, so a
// request never waits for its audit span.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "audit/audit_log.h"
#include "observatory/ingest/external_spans.h"

namespace backspan::observatory {

class ExternalSpanWriter;

// The spans of `records`: each day's root, and a span per record.
std::vector<ExternalSpan> AuditSpans(const std::vector<audit::AuditRecord>& records);

class AuditSpanWriter {
 public:
  explicit AuditSpanWriter(ExternalSpanWriter* ingest);
  ~AuditSpanWriter();  // writes what is queued, then stops
  // Queues a record; never blocks on the store.
  void Push(const audit::AuditRecord& record);

 private:
  void Loop();

  ExternalSpanWriter* ingest_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<audit::AuditRecord> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace backspan::observatory
