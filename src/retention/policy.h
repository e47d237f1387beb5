// Retention policies: which snapshots `forget` keeps. The semantics follow
// restic's `forget`, explained with worked examples in docs/retention.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repository/snapshot.h"
#include "retention/policy_values.h"
#include "util/status.h"

namespace backspan {

enum class Period { kHour, kDay, kWeek, kMonth, kYear };
inline constexpr int kPeriods = 5;

struct RetentionPolicy {
  int last = 0;               // newest N snapshots; -1 = all
  int per_period[kPeriods] = {0, 0, 0, 0, 0};  // newest in each of the last N periods; -1 = all
  CalendarDuration within;    // every snapshot within this of the newest
  CalendarDuration within_period[kPeriods];  // newest per period, within this of the newest
  std::vector<std::string> keep_tags;        // a snapshot with any of these is kept

  // True if no rule is set: such a policy removes nothing.
  bool IsEmpty() const;
  // "keep 7 daily, 4 weekly snapshots, snapshots within 1d" and so on.
  std::string Describe() const;
};

struct RetentionDecision {
  size_t index = 0;                  // into the group passed in
  bool keep = false;
  std::vector<std::string> reasons;  // the rules that kept it, e.g. "daily snapshot"
};

// Applies `policy` to one group of snapshots (any order). Returns a decision
// per snapshot, newest first. Snapshots newer than `now_ns` are always kept
// and count for no rule (not even as the newest for the duration rules), so
// a clock that once ran fast cannot make forget remove everything else.
std::vector<RetentionDecision> ApplyRetention(const std::vector<Snapshot>& group,
                                              const RetentionPolicy& policy, int64_t now_ns);

// How snapshots are grouped before the policy applies.
struct GroupBy {
  bool host = true, paths = true, tags = false;
};
// Parses "host,paths,tags" (any subset; "" groups everything together).
Result<GroupBy> ParseGroupBy(const std::string& text);

struct SnapshotGroup {
  std::string hostname;            // set when grouping by host
  std::vector<std::string> paths;  // set when grouping by paths
  std::vector<std::string> tags;   // set when grouping by tags
  std::vector<Snapshot> snapshots;
};
// Groups snapshots by the chosen keys; groups come out in a stable order.
std::vector<SnapshotGroup> GroupSnapshots(std::vector<Snapshot> snapshots, const GroupBy& by);

}  // namespace backspan
