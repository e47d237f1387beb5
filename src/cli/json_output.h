// The --json documents of every command, built in one translation unit so
// the JSON library stays out of the rest of the CLI. Field names are part
// of the CLI contract (docs/cli.md).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "archiver/archiver.h"
#include "checker/checker.h"
#include "pruner/pruner.h"
#include "repairer/index_repair.h"
#include "repository/lock.h"
#include "retention/policy.h"
#include "restorer/restorer.h"
#include "trace/export/job_history.h"

namespace backspan::cli {

// One policy as `agent --check` shows it.
struct AgentPolicyCheck {
  std::string name, error, schedule, timezone;
  struct Run {
    int64_t start_ns = 0, deadline_ns = 0;
    std::string wall_clock;  // the tick in the policy's zone
  };
  std::vector<Run> runs;
};

struct DiffEntry {
  std::string path;
  char modifier;  // '+' added, '-' removed, 'M' content changed, 'U' metadata only, 'T' type changed
};

// One group of snapshots and what the policy decided for each.
struct ForgetGroupResult {
  SnapshotGroup group;
  std::vector<RetentionDecision> decisions;
};

std::string ErrorJson(const Status& status, int exit_code);
std::string WarningJson(const std::string& message);
// {"message_type":"listening","url":…,"data":…}: `backspan serve` is up.
std::string AgentCheckJson(const std::string& path, const std::string& host, const std::vector<AgentPolicyCheck>& policies);
std::string ServeListeningJson(const std::string& url, const std::string& data_dir);
// `store copy`'s summary: what the destination holds, and whether it
// matches the source.
std::string StoreCopyJson(const std::string& from, const std::string& to, int64_t jobs, int64_t span_chunks,
                          int64_t spans, int64_t sources, bool verified);
std::string InitJson(const std::string& repo_id, const std::string& location);
std::string BackupStatusJson(const BackupProgress& p, double elapsed_s);
std::string BackupIssueJson(const BackupIssue& issue);
std::string BackupSummaryJson(const BackupResult& r);
std::string SnapshotListJson(const std::vector<Snapshot>& snapshots);
std::string NodeJson(const std::string& path, const Node& node);
std::string LsJson(const Snapshot& snapshot, const std::vector<std::string>& node_docs);
std::string DiffJson(const Snapshot& a, const Snapshot& b, const std::vector<DiffEntry>& changes);
std::string RestoreStatusJson(const RestoreProgress& p, double elapsed_s);
std::string RestoreIssueJson(const RestoreIssue& issue);
std::string RestoreSummaryJson(const Snapshot& s, const RestoreResult& r);
std::string CheckJson(const CheckResult& r);
std::string KeyListJson(const std::vector<KeyInfo>& keys);
std::string KeyChangeJson(const std::string& action, const std::string& id);
std::string ForgetJson(const std::string& policy, const std::vector<ForgetGroupResult>& groups,
                       const std::vector<Snapshot>& explicit_ids, bool dry_run, size_t removed);
std::string PruneJson(const PruneStats& s, bool dry_run);
std::string IndexRepairJson(const IndexRepairStats& s);
std::string JobsJson(const std::vector<trace::JobRecord>& jobs);
std::string TraceJson(const std::vector<trace::JobRecord>& jobs, const std::vector<trace::SpanData>& spans);
std::string UnlockJson(const std::vector<LockInfo>& removed, size_t kept);

}  // namespace backspan::cli
