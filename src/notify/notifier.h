// Turns events into notifications, as Healthchecks.io does: one per
// incident (the first problem of a source opens it), a reminder while it
// stays open, and "recovered" when it clears (the first success after it).
// Each matching rule's channel gets its copy, delivered by a thread of that
// channel with retries and backoff, so a dead channel delays no other and
// Publish never blocks. Open incidents survive a restart (a JSON file).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "notify/channel.h"
#include "notify/notify_config.h"

namespace backspan {
class Env;
}

namespace backspan::notify {

// One delivery's outcome, for the record (a span in the observatory).
struct Delivery {
  Notification notification;
  std::string channel, channel_type;
  int attempts = 0;
  Status result;  // of the last attempt
  int64_t start_ns = 0, end_ns = 0;
};

// Where events go: a notifier, or what carries them to the one that
// notifies (replicas sharing a store send theirs to the leader's).
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Queues an event; never blocks.
  virtual void Publish(Event event) = 0;
  // Sends the reminders that are due (call now and then).
  virtual void Remind() = 0;
};

class Notifier : public EventSink {
 public:
  // `state_path` keeps open incidents across restarts (empty: in memory);
  // `on_delivery` is told of each delivery once it succeeded or was given up.
  Notifier(NotifyConfig config, Env* env, std::string state_path, std::function<void(const Delivery&)> on_delivery);
  ~Notifier();  // tries what is queued once more, then stops

  // Builds the channels; InvalidArgument naming a bad one.
  Status Open();
  // Queues an event; never blocks (past 10,000 queued events, drops and
  // counts). A problem opens or reminds of an incident; kRecovered closes one.
  void Publish(Event event) override;
  // Sends the reminders that are due (call now and then).
  void Remind() override;
  // Told of the open incidents (as JSON) each time they change (null:
  // no longer). Called under the notifier's lock: it must not block.
  void OnStateSaved(std::function<void(const std::string& state)> fn);
  // Replaces the open incidents with `state` (as OnStateSaved gave it):
  // how a replica that starts to lead carries on its predecessor's.
  void RestoreState(std::string_view state);

  struct Stats {
    int64_t events = 0, dropped = 0, notifications = 0, delivered = 0, failed = 0, open_incidents = 0;
  };
  Stats stats() const;
  // Waits until nothing is queued or being delivered, up to `timeout_ms`
  // (tests and shutdown).
  bool Drain(int64_t timeout_ms);

 private:
  struct Incident {
    std::string id;
    Event last;
    int64_t opened_ns = 0, notified_ns = 0;
  };
  struct Outbox;  // a channel's queue and thread

  void Process(const Event& e);
  void Dispatch(const Notification& n);
  std::string StateJson() const;
  void Save();
  void Load();
  void ParseState(std::string_view text);

  NotifyConfig config_;
  Env* env_;
  std::string state_path_;
  std::function<void(const Delivery&)> on_delivery_;
  std::function<void(const std::string&)> on_state_saved_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  std::map<std::string, Incident> incidents_;  // by event key
  std::vector<std::unique_ptr<Outbox>> outboxes_;
  std::thread thread_;
  bool stopping_ = false;
  int busy_ = 0;
  Stats stats_;
};

}  // namespace backspan::notify
