// Plan runs that replicas sharing a store all show (docs/scaling.md, "What
// replicas share"): each replica records the runs it starts as shared
// documents ("run/ID"), so GET /api/v1/runs and /runs/ID answer alike
// through any replica, and a plan running on one replica cannot start on
// another. A replica refreshes its running runs' documents every
// kHeartbeatSeconds; a running run not refreshed for kLostAfterSeconds
// (its replica died) shows as "lost", and no longer blocks its plan. A run
// starts only once its plan is claimed for it, atomically, so that two
// replicas asked at once do not both start it.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "observatory/ops/job_runner.h"
#include "observatory/store/shared_state.h"
#include "util/periodic_thread.h"

namespace backspan::observatory {

class SharedRuns : public RunLedger {
 public:
  static constexpr int64_t kHeartbeatSeconds = 10;
  static constexpr int64_t kLostAfterSeconds = 45;

  // `shared` and `env` outlive it.
  SharedRuns(SharedState* shared, Env* env);

  void Record(const RunInfo& info) override;
  std::vector<RunInfo> List(size_t limit) override;
  std::optional<RunInfo> Get(const std::string& id) override;
  // Through a document per plan ("plan/NAME") naming its last run, taken
  // over only while it names a run that no longer runs (or that was never
  // recorded, kLostAfterSeconds after the claim).
  Status Claim(const std::string& plan, const std::string& run_id) override;

 private:
  void Put(const RunInfo& info);
  // A stored run as it is shown: "lost" if it runs and was not refreshed.
  std::optional<RunInfo> Shown(const SharedDocument& doc) const;
  void Heartbeat();

  SharedState* shared_;
  Env* env_;
  std::mutex mu_;       // the maps below
  std::mutex puts_mu_;  // one Put of a run at a time (taken before mu_)
  std::map<std::string, RunInfo> running_;  // this replica's, refreshed by the heartbeat
  std::map<std::string, bool> ended_;       // ids of this replica's runs that ended
  int64_t recorded_ = 0;
  PeriodicThread heartbeat_;  // last: stops first
};

}  // namespace backspan::observatory
