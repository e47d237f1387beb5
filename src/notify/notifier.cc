#include "notify/notifier.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

#include "crypto/crypto.h"
#include "env/env.h"
#include "util/hex.h"

namespace backspan::notify {
namespace {

constexpr size_t kMaxQueued = 10'000;
constexpr int64_t kMaxBackoffMs = 300'000;

std::string NewIncidentId() {
  uint8_t b[8];
  crypto::RandomBytes(b, sizeof b);
  return HexEncode(ByteView(b, sizeof b));
}

}  // namespace

// A channel's deliveries, in order, each retried with backoff until it
// succeeds, fails for good, or runs out of attempts.
struct Notifier::Outbox {
  std::unique_ptr<Channel> channel;
  std::deque<Notification> queue;
  std::thread thread;
};

Notifier::Notifier(NotifyConfig config, Env* env, std::string state_path, std::function<void(const Delivery&)> on_delivery)
    : config_(std::move(config)), env_(env), state_path_(std::move(state_path)), on_delivery_(std::move(on_delivery)) {}

Status Notifier::Open() {
  for (const ChannelConfig& c : config_.channels) {
    ASSIGN_OR_RETURN(auto channel, MakeChannel(c, env_));
    auto box = std::make_unique<Outbox>();
    box->channel = std::move(channel);
    outboxes_.push_back(std::move(box));
  }
  Load();
  for (auto& box : outboxes_) {
    Outbox* b = box.get();
    b->thread = std::thread([this, b] {
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        cv_.wait(lock, [&] { return stopping_ || !b->queue.empty(); });
        if (b->queue.empty()) return;
        Notification n = std::move(b->queue.front());
        b->queue.pop_front();
        ++busy_;
        lock.unlock();
        Delivery d{n, b->channel->config().name, b->channel->config().type, 0, Status::Ok(), env_->NowUnixNanos(), 0};
        int64_t backoff_ms = 1000;
        for (;;) {
          ++d.attempts;
          d.result = b->channel->Send(n);
          if (d.result.ok() || d.result.code() != ErrorCode::kIOError || d.attempts >= config_.max_attempts) break;
          std::unique_lock<std::mutex> wait(mu_);
          // Stopping cuts the backoff short: one more try, then give up.
          if (cv_.wait_for(wait, std::chrono::milliseconds(backoff_ms), [&] { return stopping_; })) {
            wait.unlock();
            ++d.attempts;
            d.result = b->channel->Send(n);
            break;
          }
          backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
        }
        d.end_ns = env_->NowUnixNanos();
        if (on_delivery_) on_delivery_(d);
        lock.lock();
        (d.result.ok() ? stats_.delivered : stats_.failed)++;
        --busy_;
        cv_.notify_all();
      }
    });
  }
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !events_.empty(); });
      if (events_.empty() && stopping_) return;
      Event e = std::move(events_.front());
      events_.pop_front();
      ++busy_;
      Process(e);  // with the lock: incidents are small and local
      --busy_;
      cv_.notify_all();
    }
  });
  return Status::Ok();
}

Notifier::~Notifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  for (auto& b : outboxes_)
    if (b->thread.joinable()) b->thread.join();
}

void Notifier::Publish(Event event) {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.events;
  if (events_.size() >= kMaxQueued || stopping_) {
    ++stats_.dropped;
    return;
  }
  events_.push_back(std::move(event));
  cv_.notify_all();
}

void Notifier::Process(const Event& e) {
  const int64_t now = env_->NowUnixNanos();
  if (e.kind == EventKind::kAnomaly || e.kind == EventKind::kForecast) {
    // News on its own: an unusual job, or a forecast, opens no incident (the
    // source may be fine), so nothing reminds of it or recovers it.
    Dispatch({e, std::string(EventKindName(e.kind)) + "-" + e.job_id, false, ""});
    return;
  }
  auto it = incidents_.find(e.key);
  if (e.kind == EventKind::kRecovered) {
    if (it == incidents_.end()) return;  // nothing was wrong
    Notification n{e, it->second.id, false, ""};
    incidents_.erase(it);
    Dispatch(n);
    Save();
    return;
  }
  if (it == incidents_.end()) {
    Incident inc{NewIncidentId(), e, now, now};
    incidents_[e.key] = inc;
    Dispatch({e, inc.id, false, ""});
    Save();
    return;
  }
  // The incident is open: a new problem is news only as a reminder.
  it->second.last = e;
  if (config_.reminder_seconds > 0 && now - it->second.notified_ns >= config_.reminder_seconds * 1'000'000'000) {
    it->second.notified_ns = now;
    Dispatch({e, it->second.id, true, ""});
  }
  Save();
}

void Notifier::Remind() {
  std::lock_guard<std::mutex> lock(mu_);
  if (config_.reminder_seconds <= 0) return;
  const int64_t now = env_->NowUnixNanos();
  bool changed = false;
  for (auto& [key, inc] : incidents_)
    if (now - inc.notified_ns >= config_.reminder_seconds * 1'000'000'000) {
      inc.notified_ns = now;
      Dispatch({inc.last, inc.id, true, ""});
      changed = true;
    }
  if (changed) Save();
}

void Notifier::Dispatch(const Notification& base) {
  Notification n = base;
  if (!config_.ui_url.empty())
    n.job_url = n.event.trace_id.empty() ? config_.ui_url + "/#/freshness" : config_.ui_url + "/#/trace/" + n.event.trace_id;
  bool any = false;
  for (const Rule& rule : config_.rules) {
    if (!rule.Matches(n.event)) continue;
    for (auto& box : outboxes_)
      if (std::find(rule.channels.begin(), rule.channels.end(), box->channel->config().name) != rule.channels.end()) {
        // A channel named by several matching rules gets one copy.
        if (std::any_of(box->queue.begin(), box->queue.end(), [&](const Notification& q) {
              return q.incident_id == n.incident_id && q.event.kind == n.event.kind && q.event.time_ns == n.event.time_ns;
            }))
          continue;
        box->queue.push_back(n);
        any = true;
      }
  }
  if (any) ++stats_.notifications;
  cv_.notify_all();
}

Notifier::Stats Notifier::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.open_incidents = static_cast<int64_t>(incidents_.size());
  return s;
}

bool Notifier::Drain(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    if (!events_.empty() || busy_ > 0) return false;
    return std::all_of(outboxes_.begin(), outboxes_.end(), [](const auto& b) { return b->queue.empty(); });
  });
}

std::string Notifier::StateJson() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [key, inc] : incidents_) {
    nlohmann::json i = nlohmann::json::parse(EncodeEvent(inc.last));
    i["id"] = inc.id;
    i["opened_ns"] = inc.opened_ns;
    i["notified_ns"] = inc.notified_ns;
    list.push_back(std::move(i));
  }
  return nlohmann::json{{"incidents", list}}.dump();
}

void Notifier::Save() {
  const std::string state = StateJson();
  if (!state_path_.empty()) (void)WriteFileAtomic(env_, state_path_, AsBytes(state));
  if (on_state_saved_) on_state_saved_(state);
}

void Notifier::Load() {
  if (state_path_.empty() || !env_->Exists(state_path_)) return;
  auto bytes = ReadWholeFile(env_, state_path_);
  if (!bytes.ok()) return;
  ParseState(AsText(*bytes));
}

void Notifier::ParseState(std::string_view text) {
  incidents_.clear();
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("incidents") || !j["incidents"].is_array()) return;
  // A damaged state loses its incidents, never the server: they reopen.
  for (const auto& i : j["incidents"]) {
    if (!i.is_object()) continue;
    auto last = DecodeEvent(i.dump());
    auto id = i.find("id");
    if (!last || id == i.end() || !id->is_string() || id->get<std::string>().empty()) continue;
    Incident inc;
    inc.id = id->get<std::string>();
    inc.last = std::move(*last);
    auto number = [&](const char* name) {
      auto it = i.find(name);
      return it != i.end() && it->is_number_integer() ? it->get<int64_t>() : int64_t{0};
    };
    inc.opened_ns = number("opened_ns");
    inc.notified_ns = number("notified_ns");
    incidents_[inc.last.key] = std::move(inc);
  }
}

void Notifier::OnStateSaved(std::function<void(const std::string& state)> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  on_state_saved_ = std::move(fn);
}

void Notifier::RestoreState(std::string_view state) {
  std::lock_guard<std::mutex> lock(mu_);
  ParseState(state);
  if (!state_path_.empty()) (void)WriteFileAtomic(env_, state_path_, AsBytes(StateJson()));
}

}  // namespace backspan::notify
