#include <cstdio>

#include "cli/context.h"
#include "cli/telemetry.h"
#include "cli/json_output.h"
#include "retention/policy.h"
#include "trace/semconv.h"
#include "util/time_format.h"

namespace backspan::cli {
namespace {

// Fills the policy from the flags; the message names the bad flag.
Status ParsePolicy(const ForgetCommand& c, RetentionPolicy* p) {
  auto count = [](const std::string& flag, const std::string& v, int* out) -> Status {
    if (v.empty()) return Status::Ok();
    auto n = ParseKeepCount(v);
    if (!n.ok()) return n.status().WithContext(flag);
    *out = *n;
    return Status::Ok();
  };
  auto duration = [](const std::string& flag, const std::string& v, CalendarDuration* out) -> Status {
    if (v.empty()) return Status::Ok();
    auto d = ParseCalendarDuration(v);
    if (!d.ok()) return d.status().WithContext(flag);
    *out = *d;
    return Status::Ok();
  };
  RETURN_IF_ERROR(count("--keep-last", c.keep_last, &p->last));
  const std::string* counts[kPeriods] = {&c.keep_hourly, &c.keep_daily, &c.keep_weekly, &c.keep_monthly,
                                         &c.keep_yearly};
  const std::string* withins[kPeriods] = {&c.within_hourly, &c.within_daily, &c.within_weekly,
                                          &c.within_monthly, &c.within_yearly};
  const char* names[kPeriods] = {"hourly", "daily", "weekly", "monthly", "yearly"};
  for (int i = 0; i < kPeriods; ++i) {
    RETURN_IF_ERROR(count(std::string("--keep-") + names[i], *counts[i], &p->per_period[i]));
    RETURN_IF_ERROR(duration(std::string("--keep-within-") + names[i], *withins[i], &p->within_period[i]));
  }
  RETURN_IF_ERROR(duration("--keep-within", c.keep_within, &p->within));
  for (const auto& t : c.keep_tags) RETURN_IF_ERROR(ValidateTag(t).WithContext("--keep-tag"));
  p->keep_tags = c.keep_tags;
  return Status::Ok();
}

void PrintGroup(const ForgetGroupResult& r) {
  std::string what;
  if (!r.group.hostname.empty()) what += "host " + r.group.hostname;
  if (!r.group.paths.empty()) {
    what += what.empty() ? "paths" : ", paths";
    for (const auto& p : r.group.paths) what += " " + p;
  }
  if (!r.group.tags.empty()) {
    what += what.empty() ? "tags" : ", tags";
    for (const auto& t : r.group.tags) what += " " + t;
  }
  std::printf("snapshots of %s:\n", what.empty() ? "all hosts and paths" : what.c_str());
  for (bool keep : {true, false}) {
    size_t n = 0;
    for (const auto& d : r.decisions) n += d.keep == keep;
    if (n == 0) continue;
    std::printf("%s %zu snapshots:\n", keep ? "keep" : "remove", n);
    for (const auto& d : r.decisions) {
      if (d.keep != keep) continue;
      const Snapshot& s = r.group.snapshots[d.index];
      std::string reasons;
      for (const auto& why : d.reasons) reasons += (reasons.empty() ? "" : ", ") + why;
      std::printf("  %s  %s  %-12s %s\n", s.id.substr(0, 8).c_str(), FormatLocalShort(s.time_ns).c_str(),
                  s.hostname.c_str(), reasons.c_str());
    }
  }
}

}  // namespace

int RunForget(const GlobalOptions& g, const ForgetCommand& c) {
  RetentionPolicy policy;
  if (Status st = ParsePolicy(c, &policy); !st.ok()) return UsageError(g, st.message());
  auto group_by = ParseGroupBy(c.group_by);
  if (!group_by.ok()) return UsageError(g, group_by.status().message());
  for (const auto& t : c.tags)
    if (Status st = ValidateTag(t); !st.ok()) return UsageError(g, st.message());
  if (policy.IsEmpty() && c.snapshots.empty()) {
    if (g.json) std::printf("{\"groups\":[],\"removed\":0,\"message\":\"no policy was specified\"}\n");
    else std::printf("no policy was specified, no snapshots will be removed\n");
    return kExitOk;
  }

  auto repo = OpenRepository(g, false, c.dry_run ? LockKind::kShared : LockKind::kExclusive, "forget");
  if (!repo.ok()) return Fail(g, repo.status());
  Repository* r = repo->get();

  std::vector<std::string> to_remove;
  std::vector<Snapshot> explicit_snaps;
  for (const auto& spec : c.snapshots) {
    auto s = r->FindSnapshot(spec);
    if (!s.ok()) return Fail(g, s.status());
    to_remove.push_back(s->id);
    explicit_snaps.push_back(*s);
  }
  std::vector<ForgetGroupResult> results;
  trace::Span apply = JobSpan(g).StartChild("apply policy");
  apply.SetAttribute(semconv::kForgetPolicy, policy.Describe());
  if (!policy.IsEmpty()) {
    auto all = r->LoadAllSnapshots(/*vanished_is_error=*/!c.dry_run);
    if (!all.ok()) return Fail(g, all.status());
    std::vector<Snapshot> considered;
    for (auto& s : *all)
      if (s.Matches(c.tags, c.host)) considered.push_back(std::move(s));
    int64_t now = r->env()->NowUnixNanos();
    for (auto& group : GroupSnapshots(std::move(considered), *group_by)) {
      ForgetGroupResult res{std::move(group), {}};
      res.decisions = ApplyRetention(res.group.snapshots, policy, now);
      for (const auto& d : res.decisions)
        if (!d.keep) to_remove.push_back(res.group.snapshots[d.index].id);
      results.push_back(std::move(res));
    }
  }

  apply.SetAttribute(semconv::kSnapshotsToRemove, to_remove.size());
  apply.End();
  size_t removed = 0;
  trace::Span remove = JobSpan(g).StartChild("remove snapshots");
  if (!c.dry_run) {
    for (const auto& id : to_remove) {
      Status st = r->backend()->Remove(FileType::kSnapshot, id);
      if (!st.ok() && st.code() != ErrorCode::kNotFound) {
        remove.RecordError(st);
        return Fail(g, st.WithContext("remove snapshot " + id));
      }
      ++removed;
    }
  }
  remove.SetAttribute(semconv::kSnapshotsRemoved, removed);
  remove.End();
  if (g.job) {
    g.job->root().SetAttribute(semconv::kSnapshotsRemoved, removed);
    g.job->root().SetAttribute(semconv::kDryRun, c.dry_run);
  }
  if (g.json) {
    std::printf("%s\n", ForgetJson(policy.Describe(), results, explicit_snaps, c.dry_run, removed).c_str());
  } else if (!g.quiet) {
    if (!policy.IsEmpty()) std::printf("applying policy: %s\n", policy.Describe().c_str());
    for (const auto& res : results) PrintGroup(res);
    for (const auto& s : explicit_snaps) std::printf("removing snapshot %s (given by id)\n", s.id.substr(0, 8).c_str());
    if (c.dry_run) std::printf("dry run: %zu snapshots would be removed\n", to_remove.size());
    else std::printf("removed %zu snapshots\n", removed);
  }
  if (c.prune && removed > 0) return PruneOpened(g, *repo, c.prune_options);
  return kExitOk;
}

}  // namespace backspan::cli
