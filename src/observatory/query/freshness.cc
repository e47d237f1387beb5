#include "observatory/query/freshness.h"

#include <algorithm>
#include <vector>

namespace backspan::observatory {

Freshness EvaluateFreshness(const SourceState& s, int64_t now_ns, int64_t default_stale_ns) {
  Freshness f;
  const auto& t = s.recent_success_ns;
  if (t.size() >= 3) {
    std::vector<int64_t> gaps;
    for (size_t i = 1; i < t.size(); ++i) gaps.push_back(t[i] - t[i - 1]);
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<long>(gaps.size() / 2), gaps.end());
    f.expected_interval_ns = gaps[gaps.size() / 2];
  }
  f.overdue_after_ns = f.expected_interval_ns > 0 ? 2 * f.expected_interval_ns : default_stale_ns;
  // Never alarm sooner than a minute: back-to-back test runs teach no schedule.
  f.overdue_after_ns = std::max<int64_t>(f.overdue_after_ns, 60'000'000'000);
  const int64_t since = s.last_success_ns > 0 ? s.last_success_ns : s.first_seen_ns;
  f.age_ns = std::max<int64_t>(0, now_ns - since);
  f.overdue = f.age_ns > f.overdue_after_ns;
  return f;
}

}  // namespace backspan::observatory
