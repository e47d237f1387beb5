// Retention semantics, as a table of cases: restic's documented examples and
// the edges (ISO weeks across years, unlimited counts, durations, tags).
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "retention/policy.h"
#include "util/time_format.h"

namespace backspan {
namespace {

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

Snapshot At(const std::string& when, std::vector<std::string> tags = {}) {
  Snapshot s;
  auto t = ParseUserTime(when);
  EXPECT_TRUE(t.has_value()) << when;
  s.time_ns = *t;
  s.id = when;  // readable in failures
  s.hostname = "h";
  s.paths = {"/p"};
  s.tags = std::move(tags);
  return s;
}

// The times of the kept snapshots, newest first.
std::vector<std::string> Kept(const std::vector<Snapshot>& snaps, const RetentionPolicy& p,
                              const std::string& now = "2100-01-01") {
  std::vector<std::string> out;
  for (const auto& d : ApplyRetention(snaps, p, *ParseUserTime(now)))
    if (d.keep) out.push_back(snaps[d.index].id);
  return out;
}

std::vector<Snapshot> Sundays() {  // restic's docs: a backup every Sunday for 12 weeks
  std::vector<Snapshot> s;
  for (const char* d : {"2019-09-01", "2019-09-08", "2019-09-15", "2019-09-22", "2019-09-29", "2019-10-06",
                        "2019-10-13", "2019-10-20", "2019-10-27", "2019-11-03", "2019-11-10", "2019-11-17"})
    s.push_back(At(std::string(d) + " 11:00:00"));
  return s;
}

TEST_F(RetentionTest, ResticDocsKeepDaily4KeepsTheLastFourSundays) {
  RetentionPolicy p;
  p.per_period[static_cast<int>(Period::kDay)] = 4;
  EXPECT_EQ(Kept(Sundays(), p), (std::vector<std::string>{"2019-11-17 11:00:00", "2019-11-10 11:00:00",
                                                           "2019-11-03 11:00:00", "2019-10-27 11:00:00"}));
}

TEST_F(RetentionTest, ResticDocsDailyWeeklyMonthlyYearlyOverOneHundredYears) {
  // "one backup every day for 100 years ... --keep-daily 7 --keep-weekly 5
  // --keep-monthly 12 --keep-yearly 75 would keep the most recent 7 daily
  // snapshots and 4 last-day-of-the-week ones (since the 7 dailies already
  // include 1 weekly)", then 12 or 11 monthly and 75 or 74 yearly. Ending on
  // a Sunday, the last of December, the newest is daily, weekly, monthly and
  // yearly at once: 7 + 4 + 11 + 74.
  std::vector<Snapshot> snaps;
  int64_t day = 86400LL * 1000000000;
  int64_t end = *ParseUserTime("2024-12-29 12:00:00");  // a Sunday, the last one of 2024
  for (int i = 0; i < 36525; ++i) {
    Snapshot s;
    s.time_ns = end - i * day;
    s.id = FormatRfc3339(s.time_ns);
    snaps.push_back(s);
  }
  RetentionPolicy p;
  p.per_period[static_cast<int>(Period::kDay)] = 7;
  p.per_period[static_cast<int>(Period::kWeek)] = 5;
  p.per_period[static_cast<int>(Period::kMonth)] = 12;
  p.per_period[static_cast<int>(Period::kYear)] = 75;
  EXPECT_EQ(Kept(snaps, p).size(), 7u + 4 + 11 + 74);
}

TEST_F(RetentionTest, KeepLastAndUnlimited) {
  RetentionPolicy p;
  p.last = 3;
  EXPECT_EQ(Kept(Sundays(), p).size(), 3u);
  p.last = -1;
  EXPECT_EQ(Kept(Sundays(), p).size(), 12u);
}

TEST_F(RetentionTest, RulesCombineWithOrAndNameTheirReasons) {
  std::vector<Snapshot> snaps = {At("2026-11-02 09:00:00"), At("2026-11-02 18:00:00"), At("2026-11-03 09:00:00")};
  RetentionPolicy p;
  p.last = 1;
  p.per_period[static_cast<int>(Period::kDay)] = 2;
  auto d = ApplyRetention(snaps, p, *ParseUserTime("2030-01-01"));
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(snaps[d[0].index].id, "2026-11-03 09:00:00");
  EXPECT_EQ(d[0].reasons, (std::vector<std::string>{"last snapshot", "daily snapshot"}));
  EXPECT_EQ(snaps[d[1].index].id, "2026-11-02 18:00:00");  // newest of its day
  EXPECT_EQ(d[1].reasons, (std::vector<std::string>{"daily snapshot"}));
  EXPECT_FALSE(d[2].keep);
}

TEST_F(RetentionTest, HourlyCountsOnlyHoursThatHaveSnapshots) {
  std::vector<Snapshot> snaps = {At("2026-11-02 01:10:00"), At("2026-11-02 01:50:00"), At("2026-11-02 05:00:00"),
                                 At("2026-11-03 23:59:00")};
  RetentionPolicy p;
  p.per_period[static_cast<int>(Period::kHour)] = 2;
  EXPECT_EQ(Kept(snaps, p), (std::vector<std::string>{"2026-11-03 23:59:00", "2026-11-02 05:00:00"}));
}

TEST_F(RetentionTest, WeeksAreIsoWeeksAcrossTheYearBoundary) {
  // 2026-12-31 (Thu) and 2027-01-03 (Sun) are both in ISO week 2026-W53;
  // 2027-01-04 (Mon) starts 2027-W01; 2026-12-27 (Sun) ends 2026-W52.
  std::vector<Snapshot> snaps = {At("2026-12-27 12:00:00"), At("2026-12-31 12:00:00"), At("2027-01-03 12:00:00"),
                                 At("2027-01-04 12:00:00")};
  RetentionPolicy p;
  p.per_period[static_cast<int>(Period::kWeek)] = 3;
  EXPECT_EQ(Kept(snaps, p), (std::vector<std::string>{"2027-01-04 12:00:00", "2027-01-03 12:00:00",
                                                       "2026-12-27 12:00:00"}));
}

TEST_F(RetentionTest, MonthlyAndYearly) {
  std::vector<Snapshot> snaps = {At("2024-12-31 10:00:00"), At("2025-01-15 10:00:00"), At("2025-01-31 10:00:00"),
                                 At("2025-02-01 10:00:00"), At("2025-12-01 10:00:00")};
  RetentionPolicy p;
  p.per_period[static_cast<int>(Period::kMonth)] = 2;
  EXPECT_EQ(Kept(snaps, p), (std::vector<std::string>{"2025-12-01 10:00:00", "2025-02-01 10:00:00"}));
  RetentionPolicy y;
  y.per_period[static_cast<int>(Period::kYear)] = -1;
  EXPECT_EQ(Kept(snaps, y), (std::vector<std::string>{"2025-12-01 10:00:00", "2024-12-31 10:00:00"}));
}

TEST_F(RetentionTest, KeepWithinCountsBackFromTheNewestSnapshotNotNow) {
  std::vector<Snapshot> snaps = {At("2020-03-01 00:00:00"), At("2020-03-09 12:00:00"), At("2020-03-10 00:00:00"),
                                 At("2020-03-11 00:00:00")};
  RetentionPolicy p;
  p.within = *ParseCalendarDuration("1d12h");  // cut-off 2020-03-09 12:00, exclusive
  EXPECT_EQ(Kept(snaps, p, "2030-01-01"),
            (std::vector<std::string>{"2020-03-11 00:00:00", "2020-03-10 00:00:00"}));
}

TEST_F(RetentionTest, KeepWithinMonthsFollowsTheCalendar) {
  // One month before 2024-03-31 is 2024-02-31, which the calendar calls 2024-03-02.
  std::vector<Snapshot> snaps = {At("2024-03-01 00:00:00"), At("2024-03-02 00:00:01"), At("2024-03-31 00:00:00")};
  RetentionPolicy p;
  p.within = *ParseCalendarDuration("1m");
  EXPECT_EQ(Kept(snaps, p), (std::vector<std::string>{"2024-03-31 00:00:00", "2024-03-02 00:00:01"}));
}

TEST_F(RetentionTest, KeepWithinDailyKeepsOnePerDayInsideTheWindow) {
  std::vector<Snapshot> snaps = {At("2026-11-01 08:00:00"), At("2026-11-05 08:00:00"), At("2026-11-05 20:00:00"),
                                 At("2026-11-06 08:00:00"), At("2026-11-07 08:00:00")};
  RetentionPolicy p;
  p.within_period[static_cast<int>(Period::kDay)] = *ParseCalendarDuration("3d");
  EXPECT_EQ(Kept(snaps, p), (std::vector<std::string>{"2026-11-07 08:00:00", "2026-11-06 08:00:00",
                                                       "2026-11-05 20:00:00"}));
}

TEST_F(RetentionTest, KeepTagAndFutureSnapshots) {
  std::vector<Snapshot> snaps = {At("2026-01-01 00:00:00", {"keep=forever"}), At("2026-02-01 00:00:00"),
                                 At("2026-03-01 00:00:00"), At("2099-01-01 00:00:00")};
  RetentionPolicy p;
  p.last = 1;
  p.keep_tags = {"keep=forever"};
  // The future snapshot is kept and does not count as the last one.
  auto kept = Kept(snaps, p, "2026-06-01");
  EXPECT_EQ(kept, (std::vector<std::string>{"2099-01-01 00:00:00", "2026-03-01 00:00:00", "2026-01-01 00:00:00"}))
      << "got " << kept.size();
}

TEST_F(RetentionTest, EmptyPolicyKeepsNothingByItself) {
  RetentionPolicy p;
  EXPECT_TRUE(p.IsEmpty());
  EXPECT_TRUE(Kept(Sundays(), p).empty());
}

TEST_F(RetentionTest, ParsesCountsAndDurations) {
  EXPECT_EQ(*ParseKeepCount("unlimited"), -1);
  EXPECT_EQ(*ParseKeepCount("7"), 7);
  EXPECT_FALSE(ParseKeepCount("-1").ok());
  EXPECT_FALSE(ParseKeepCount("x").ok());
  auto d = ParseCalendarDuration("1y5m7d2h");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->years, 1);
  EXPECT_EQ(d->months, 5);
  EXPECT_EQ(d->days, 7);
  EXPECT_EQ(d->hours, 2);
  EXPECT_FALSE(ParseCalendarDuration("1w").ok());
  EXPECT_FALSE(ParseCalendarDuration("5").ok());
}

TEST_F(RetentionTest, GroupsByHostAndPathsByDefault) {
  std::vector<Snapshot> snaps = {At("2026-01-01"), At("2026-01-02"), At("2026-01-03")};
  snaps[1].hostname = "other";
  snaps[2].paths = {"/q"};
  EXPECT_EQ(GroupSnapshots(snaps, GroupBy{}).size(), 3u);
  EXPECT_EQ(GroupSnapshots(snaps, *ParseGroupBy("host")).size(), 2u);
  EXPECT_EQ(GroupSnapshots(snaps, *ParseGroupBy("")).size(), 1u);
  EXPECT_FALSE(ParseGroupBy("color").ok());
}

}  // namespace
}  // namespace backspan
