#include "retention/policy.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <tuple>

#include "util/time_format.h"

namespace backspan {
namespace {

const char* const kPeriodName[kPeriods] = {"hourly", "daily", "weekly", "monthly", "yearly"};

// The calendar period a time falls in, as a number unique per period.
int64_t PeriodOf(int64_t t_ns, Period p) {
  struct tm tm = LocalCalendar(t_ns);
  int64_t y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday, h = tm.tm_hour;
  switch (p) {
    case Period::kHour: return ((y * 100 + m) * 100 + d) * 100 + h;
    case Period::kDay: return (y * 100 + m) * 100 + d;
    case Period::kWeek: {  // ISO 8601: weeks start on Monday; week 1 holds January 4th
      char buf[16];
      strftime(buf, sizeof buf, "%G%V", &tm);
      return std::stoll(buf);
    }
    case Period::kMonth: return y * 100 + m;
    case Period::kYear: return y;
  }
  return 0;
}

std::string CountText(int n) { return n < 0 ? "all" : std::to_string(n); }

}  // namespace

bool RetentionPolicy::IsEmpty() const {
  if (last != 0 || !within.IsZero() || !keep_tags.empty()) return false;
  for (int p = 0; p < kPeriods; ++p)
    if (per_period[p] != 0 || !within_period[p].IsZero()) return false;
  return true;
}

std::string RetentionPolicy::Describe() const {
  std::vector<std::string> parts;
  if (last != 0) parts.push_back(CountText(last) + " latest");
  for (int p = 0; p < kPeriods; ++p)
    if (per_period[p] != 0) parts.push_back(CountText(per_period[p]) + " " + kPeriodName[p]);
  std::string s = parts.empty() ? "" : "keep ";
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : "") + parts[i];
  if (!parts.empty()) s += " snapshots";
  auto add = [&](const std::string& clause) { s += (s.empty() ? "keep " : "; keep ") + clause; };
  if (!within.IsZero()) add("snapshots within " + within.ToString() + " of the newest");
  for (int p = 0; p < kPeriods; ++p)
    if (!within_period[p].IsZero())
      add(std::string(kPeriodName[p]) + " snapshots within " + within_period[p].ToString() + " of the newest");
  for (const auto& t : keep_tags) add("snapshots tagged " + t);
  return s.empty() ? "keep everything (no policy)" : s;
}

std::vector<RetentionDecision> ApplyRetention(const std::vector<Snapshot>& group,
                                              const RetentionPolicy& policy, int64_t now_ns) {
  std::vector<size_t> order(group.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (group[a].time_ns != group[b].time_ns) return group[a].time_ns > group[b].time_ns;
    return group[a].id > group[b].id;
  });

  // The newest snapshot not in the future anchors the duration rules.
  int64_t newest = INT64_MIN;
  for (size_t i : order)
    if (group[i].time_ns <= now_ns) {
      newest = group[i].time_ns;
      break;
    }

  int last_left = policy.last;
  int left[kPeriods];
  int64_t last_period[kPeriods], last_within_period[kPeriods];
  int64_t within_cutoff[kPeriods];
  for (int p = 0; p < kPeriods; ++p) {
    left[p] = policy.per_period[p];
    last_period[p] = last_within_period[p] = INT64_MIN;
    within_cutoff[p] = policy.within_period[p].IsZero() || newest == INT64_MIN
                           ? INT64_MAX
                           : SubtractCalendar(newest, policy.within_period[p]);
  }
  int64_t cutoff = policy.within.IsZero() || newest == INT64_MIN ? INT64_MAX
                                                                  : SubtractCalendar(newest, policy.within);

  std::vector<RetentionDecision> out;
  for (size_t i : order) {
    const Snapshot& s = group[i];
    RetentionDecision d;
    d.index = i;
    if (s.time_ns > now_ns) {  // kept, and counts for no rule
      d.reasons.push_back("in the future");
      d.keep = true;
      out.push_back(std::move(d));
      continue;
    }
    if (last_left != 0) {
      d.reasons.push_back("last snapshot");
      if (last_left > 0) --last_left;
    }
    for (int p = 0; p < kPeriods; ++p) {
      int64_t period = PeriodOf(s.time_ns, static_cast<Period>(p));
      if (left[p] != 0 && period != last_period[p]) {
        d.reasons.push_back(std::string(kPeriodName[p]) + " snapshot");
        last_period[p] = period;
        if (left[p] > 0) --left[p];
      }
      if (s.time_ns > within_cutoff[p] && period != last_within_period[p]) {
        d.reasons.push_back(std::string(kPeriodName[p]) + " within " + policy.within_period[p].ToString());
        last_within_period[p] = period;
      }
    }
    if (s.time_ns > cutoff) d.reasons.push_back("within " + policy.within.ToString());
    for (const auto& tag : policy.keep_tags)
      if (std::find(s.tags.begin(), s.tags.end(), tag) != s.tags.end()) d.reasons.push_back("tagged " + tag);
    d.keep = !d.reasons.empty();
    out.push_back(std::move(d));
  }
  return out;
}

Result<GroupBy> ParseGroupBy(const std::string& text) {
  GroupBy by{false, false, false};
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    std::string key = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (key == "host") by.host = true;
    else if (key == "paths") by.paths = true;
    else if (key == "tags") by.tags = true;
    else if (!key.empty())
      return Status::InvalidArgument("invalid --group-by key '" + key + "': use host, paths, tags");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return by;
}

std::vector<SnapshotGroup> GroupSnapshots(std::vector<Snapshot> snapshots, const GroupBy& by) {
  std::map<std::tuple<std::string, std::vector<std::string>, std::vector<std::string>>, SnapshotGroup> groups;
  for (auto& s : snapshots) {
    std::string host = by.host ? s.hostname : "";
    std::vector<std::string> paths, tags;
    if (by.paths) paths = s.paths;
    if (by.tags) tags = s.tags;
    std::sort(paths.begin(), paths.end());
    std::sort(tags.begin(), tags.end());
    auto& g = groups[{host, paths, tags}];
    g.hostname = host;
    g.paths = paths;
    g.tags = tags;
    g.snapshots.push_back(std::move(s));
  }
  std::vector<SnapshotGroup> out;
  for (auto& [key, g] : groups) out.push_back(std::move(g));
  return out;
}

}  // namespace backspan
