// Replicas sharing a store notify as one (docs/notifications.md,
// "Replicas"): each replica's events go through a queue in the store to the
// leader, whose notifier alone keeps the open incidents and delivers. The
// incidents are shared as a document, so a replica that starts to lead
// carries on where the last leader stopped: one "failed", one reminder
// schedule, one "recovered", whichever replica heard of each job.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "notify/notifier.h"
#include "observatory/store/span_store.h"
#include "util/periodic_thread.h"

namespace backspan::observatory {

class NotificationRelay : public notify::EventSink {
 public:
  // `store` must share state (Shared() not null); `notifier` is this
  // replica's, used while it leads. Both outlive the relay.
  NotificationRelay(notify::Notifier* notifier, SpanStore* store);
  ~NotificationRelay() override;  // sends what is still held, then stops

  // Holds the event for the queue (relayed within a tenth of a second);
  // never blocks (past 10,000 held while the store is unreachable, drops
  // and counts).
  void Publish(notify::Event event) override;
  // The leader's reminders (only the leader calls it: ExpectationWatcher).
  void Remind() override;
  // Events dropped while the store was unreachable.
  int64_t dropped() const;

 private:
  // One round: held events to the queue; if leading, the queue to the notifier.
  void Relay(bool final_round);
  void Report(const Status& s);

  notify::Notifier* notifier_;
  SpanStore* store_;
  SharedState* shared_;
  mutable std::mutex mu_;
  std::deque<std::string> held_;          // encoded events not yet queued
  std::optional<std::string> state_;      // incidents to share, if changed
  bool leading_ = false;  // the relay thread's
  int64_t dropped_ = 0;
  std::string last_problem_;  // the relay thread's
  std::optional<PeriodicThread> thread_;  // last: stops first (reset in the destructor)
};

}  // namespace backspan::observatory
