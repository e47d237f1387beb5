#include "observatory/replicas/shared_runs.h"

#include <chrono>
#include <cstdio>
#include <vector>

#include "env/env.h"

namespace backspan::observatory {
namespace {

constexpr const char* kPrefix = "run/";
constexpr const char* kPlanPrefix = "plan/";  // a plan's claim: the id of its last run
constexpr int kKept = 1000;  // as many as a runner keeps

}  // namespace

SharedRuns::SharedRuns(SharedState* shared, Env* env)
    : shared_(shared), env_(env), heartbeat_(std::chrono::seconds(kHeartbeatSeconds), [this] { Heartbeat(); }) {}

void SharedRuns::Put(const RunInfo& info) {
  if (auto put = shared_->Put(kPrefix + info.id, EncodeRun(info)); !put.ok())
    std::fprintf(stderr, "warning: run %s is not shared with the other replicas: %s\n", info.id.c_str(),
                 put.status().message().c_str());
}

void SharedRuns::Record(const RunInfo& info) {
  bool trim = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A run that ended at once may be recorded ended before it is recorded started.
    if (info.state == "running") {
      if (ended_.count(info.id)) return;
      running_[info.id] = info;
    } else {
      running_.erase(info.id);
      ended_[info.id] = true;
      if (ended_.size() > static_cast<size_t>(kKept)) ended_.erase(ended_.begin());
    }
    trim = ++recorded_ % 100 == 0;
  }
  {
    std::lock_guard<std::mutex> puts(puts_mu_);
    Put(info);
  }
  if (trim) (void)shared_->Trim(kPrefix, kKept);
}

std::optional<RunInfo> SharedRuns::Shown(const SharedDocument& doc) const {
  auto info = DecodeRun(doc.body);
  if (!info) return std::nullopt;
  if (info->state == "running" && env_->NowUnixNanos() - doc.updated_ns > kLostAfterSeconds * 1'000'000'000) {
    info->state = "lost";
    info->stderr_tail.push_back("the replica running it stopped answering; the run's trace says how far it got");
  }
  return info;
}

std::vector<RunInfo> SharedRuns::List(size_t limit) {
  std::vector<RunInfo> out;
  auto docs = shared_->List(kPrefix, static_cast<int>(limit));
  if (!docs.ok()) return out;  // this replica's own runs still show
  for (const auto& [name, doc] : *docs)
    if (auto info = Shown(doc)) out.push_back(std::move(*info));
  return out;
}

std::optional<RunInfo> SharedRuns::Get(const std::string& id) {
  auto doc = shared_->Get(kPrefix + id);
  if (!doc.ok() || !doc->has_value()) return std::nullopt;
  return Shown(**doc);
}

Status SharedRuns::Claim(const std::string& plan, const std::string& run_id) {
  const std::string name = kPlanPrefix + plan;
  auto held = [&](const std::string& other) {
    return Status::AlreadyExists("plan '" + plan + "' has a job running: " + other);
  };
  auto unreachable = [](const Status& s) {
    return Status::IOError("the runs replicas share cannot be read (" + s.message() + "); try again");
  };
  auto created = shared_->Create(name, run_id);
  if (!created.ok()) return unreachable(created.status());
  if (*created) return Status::Ok();
  auto doc = shared_->Get(name);
  if (!doc.ok()) return unreachable(doc.status());
  if (!doc->has_value()) return held("another replica's, just started");  // deleted meanwhile: not by us
  const SharedDocument& claim = **doc;
  auto run = shared_->Get(kPrefix + claim.body);
  if (!run.ok()) return unreachable(run.status());
  if (run->has_value()) {
    if (auto info = Shown(**run); info && info->state == "running") return held(claim.body);
  } else if (env_->NowUnixNanos() - claim.updated_ns <= kLostAfterSeconds * 1'000'000'000) {
    return held(claim.body);  // claimed, and its run not recorded yet
  }
  auto replaced = shared_->Replace(name, run_id, claim.version);
  if (!replaced.ok()) return unreachable(replaced.status());
  return *replaced ? Status::Ok() : held("another replica's, just started");
}

void SharedRuns::Heartbeat() {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, info] : running_) ids.push_back(id);
  }
  for (const std::string& id : ids) {
    // Still running once no Record is writing: an ended run is never
    // refreshed back to running.
    std::lock_guard<std::mutex> puts(puts_mu_);
    std::optional<RunInfo> info;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = running_.find(id); it != running_.end()) info = it->second;
    }
    if (info) Put(*info);
  }
}

}  // namespace backspan::observatory
