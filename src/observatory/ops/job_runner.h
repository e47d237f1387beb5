// Jobs the observatory starts on request (POST /api/v1/plans/{name}/...):
// each run is this backspan binary as a child process, exporting its trace
// back to the observatory with a bearer token that is good only for that
// run's ingest, in the plan's scope. Who asked goes on every span
// (enduser.id, as a resource attribute), so the trace says who started it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "observatory/ops/plans.h"
#include "observatory/access/scope.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

struct RunRequest {
  Plan plan;
  std::string command;            // "backup", "restore" or "forget"
  std::vector<std::string> args;  // after the command, e.g. {"latest", "--target", DIR}
  std::string triggered_by;       // the caller's subject, for enduser.id
};

struct RunInfo {
  std::string id, plan, command, triggered_by;
  std::string state = "running";  // running, succeeded, failed; lost: its replica stopped while it ran
  int exit_code = -1;
  int64_t started_ns = 0, ended_ns = 0;
  std::string trace_id;              // from the run's first export; empty until then
  std::vector<std::string> stderr_tail;  // the last lines it wrote to stderr
  std::string summary;               // its last line of --json output
  std::vector<Tag> plan_tags;        // where the run is visible
  // The run as the API shows it.
  std::string ToJson() const;
};

// A run with every field, as JSON (plan tags and times in nanoseconds
// included), and back (nullopt if damaged): how replicas share runs.
std::string EncodeRun(const RunInfo& info);
std::optional<RunInfo> DecodeRun(std::string_view text);

// Where a runner also records its runs and finds the runs of other runners
// that share it (replicas of `serve`: observatory/replicas/shared_runs.h).
class RunLedger {
 public:
  virtual ~RunLedger() = default;
  // Records a run as it is now (started, its trace noted, ended). Called
  // outside the runner's lock; may block on I/O briefly.
  virtual void Record(const RunInfo& info) = 0;
  // The other runners' runs too: the newest `limit` by start, newest first.
  virtual std::vector<RunInfo> List(size_t limit) = 0;
  virtual std::optional<RunInfo> Get(const std::string& id) = 0;
  // Makes `run_id` the plan's one running run across runners, atomically:
  // AlreadyExists (naming the other run) if another run of the plan holds
  // it; IOError if the ledger cannot be reached (nothing starts).
  virtual Status Claim(const std::string& plan, const std::string& run_id) = 0;
};

class JobRunner {
 public:
  // `program`: the backspan binary; `endpoint`: the observatory's own base
  // URL, where runs export their traces.
  JobRunner(std::string program, std::string endpoint, Env* env);
  // Stops what still runs (SIGTERM: an interrupted job leaves the
  // repository sound) and waits for it.
  ~JobRunner();

  // Shares runs through `ledger` (set before the first Start; it must
  // outlive the runner): List and Get then answer with every runner's, and
  // a plan running in another runner counts as running.
  void SetLedger(RunLedger* ledger) { ledger_ = ledger; }
  // Starts a run and returns at once. AlreadyExists if a run of the plan is
  // still going (jobs of one plan never overlap); IOError if it cannot start.
  Result<RunInfo> Start(const RunRequest& request);
  // The run with this id, if any.
  std::optional<RunInfo> Get(const std::string& id) const;
  // The newest runs, newest first.
  std::vector<RunInfo> List(size_t limit = 100) const;
  // If `bearer` is a running job's ingest token: the scope it may write in
  // (its plan's), and the trace it exports is noted as the run's.
  std::optional<Scope> IngestScope(const std::string& bearer) const;
  void NoteTrace(const std::string& bearer, const std::string& trace_id);

 private:
  struct Run {
    RunInfo info;
    std::string token;
    int pid = 0;
    std::thread thread;
  };
  void Execute(Run* run, std::vector<std::string> argv, std::vector<std::string> environment);

  const std::string program_, endpoint_;
  Env* env_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Run>> runs_;  // oldest first
  bool stopping_ = false;
  RunLedger* ledger_ = nullptr;
};

}  // namespace backspan::observatory
