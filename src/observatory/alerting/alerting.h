// What the observatory notifies about: finished jobs (a failure, a partial
// backup, a missed run, and the success that recovers its source), and its
// own check of every source against its schedule on the observatory's
// clock (overdue, and recovered), so a dead agent's sources still alarm.
// Deliveries are recorded as spans: in the job's trace when there is one.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "notify/notifier.h"
#include "util/periodic_thread.h"
#include "observatory/insight/insight_engine.h"
#include "observatory/store/records.h"
#include "observatory/store/span_store.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

class ExternalSpanWriter;

// The events finished jobs raise (none for running jobs and kinds that are
// not a backup's business, such as audit records).
std::vector<notify::Event> EventsFromJobs(const std::vector<JobRecord>& jobs);

// The event an anomaly raises (kind `anomaly`, on its source's incident):
// `source` is its row on the freshness board, when found.
notify::Event EventFromAnomaly(const insight::AnomalyRecord& anomaly, const SourceState* source);
// An anomaly as a span to send on (`serve --forward`): a child of the job's
// span, at `now_ns`, holding the `anomaly` event the trace view shows on
// the job. Its id follows from the anomaly's, so a repeat is the same span.
trace::SpanData AnomalySpan(const insight::AnomalyRecord& anomaly, const SourceState* source, int64_t now_ns);

// The event a forecast overrun within a few runs raises (kind `forecast`);
// `newest` is the source's newest job, whose trace it links to.
notify::Event EventFromOverrunForecast(const std::string& source_key, const insight::JobPoint& newest,
                                       const insight::OverrunForecast& forecast, const SourceState* source);

// A delivery as a span: a child of the job's root if it has a trace id.
void RecordDelivery(ExternalSpanWriter* writer, const notify::Delivery& d);

class ExpectationWatcher {
 public:
  // Checks the sources every `interval_seconds` in a thread of its own.
  ExpectationWatcher(SpanStore* store, notify::EventSink* events, Env* env, int64_t interval_seconds,
                     int64_t default_stale_ns);
  // One check, now (the thread's body; tests call it).
  void CheckOnce();

 private:
  SpanStore* store_;
  notify::EventSink* events_;
  Env* env_;
  int64_t default_stale_ns_;
  PeriodicThread thread_;  // last: stops first
};

}  // namespace backspan::observatory
