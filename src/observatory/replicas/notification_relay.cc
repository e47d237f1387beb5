#include "observatory/replicas/notification_relay.h"

#include <chrono>
#include <cstdio>
#include <vector>

namespace backspan::observatory {
namespace {

constexpr const char* kEventQueue = "notification events";
constexpr const char* kIncidentsDocument = "notifier incidents";
constexpr size_t kMaxHeld = 10'000;
constexpr int kTakeAtOnce = 1000;

}  // namespace

NotificationRelay::NotificationRelay(notify::Notifier* notifier, SpanStore* store)
    : notifier_(notifier), store_(store), shared_(store->Shared()) {
  notifier_->OnStateSaved([this](const std::string& state) {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = state;
  });
  thread_.emplace(std::chrono::milliseconds(100), [this] { Relay(false); });
}

NotificationRelay::~NotificationRelay() {
  thread_.reset();
  Relay(true);
  notifier_->OnStateSaved(nullptr);
}

void NotificationRelay::Publish(notify::Event event) {
  std::string encoded = notify::EncodeEvent(event);
  std::lock_guard<std::mutex> lock(mu_);
  if (held_.size() >= kMaxHeld) {
    ++dropped_;
    return;
  }
  held_.push_back(std::move(encoded));
}

void NotificationRelay::Remind() {
  if (store_->Leads()) notifier_->Remind();
}

int64_t NotificationRelay::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void NotificationRelay::Report(const Status& s) {
  // Once per new problem, not every round.
  const std::string problem = s.ok() ? "" : s.message();
  if (!problem.empty() && problem != last_problem_)
    std::fprintf(stderr, "warning: notifications cannot pass through the store: %s\n", problem.c_str());
  last_problem_ = problem;
}

void NotificationRelay::Relay(bool final_round) {
  std::vector<std::string> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    held.assign(held_.begin(), held_.end());
  }
  if (!held.empty()) {
    Status s = shared_->Enqueue(kEventQueue, held);
    Report(s);
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(held.size()));
    }  // else held, and tried again next round
  }
  if (final_round) return;  // the next leader delivers what is queued
  const bool leads = store_->Leads();
  if (leads && !leading_) {
    // Taking over: the last leader's incidents, if it shared any (else this
    // replica's own, shared from now on).
    auto doc = shared_->Get(kIncidentsDocument);
    if (!doc.ok()) return;  // not leading yet, as far as notifying goes
    if (doc->has_value()) notifier_->RestoreState((*doc)->body);
  }
  leading_ = leads;
  if (leads) {
    auto events = shared_->Dequeue(kEventQueue, kTakeAtOnce);
    Report(events.status());
    if (events.ok())
      for (const std::string& text : *events)
        if (auto e = notify::DecodeEvent(text)) notifier_->Publish(std::move(*e));
  }
  std::optional<std::string> state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state.swap(state_);
  }
  if (state && leads) {
    if (auto put = shared_->Put(kIncidentsDocument, *state); !put.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!state_) state_ = std::move(state);  // shared next round
    }
  }
}

}  // namespace backspan::observatory
