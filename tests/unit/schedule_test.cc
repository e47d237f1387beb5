// Cron expressions, time zones and the DST rules of docs/agent.md. The
// broad comparison with an independent implementation is
// integration/test_cron_oracle.py.
#include <gtest/gtest.h>

#include "schedule/schedule.h"

namespace backspan::schedule {
namespace {

int64_t At(const TimeZone& zone, int y, int mo, int d, int h, int mi) {
  return zone.FromCivil(CivilMinute{y, mo, d, h, mi}).first;
}

std::string Civil(const TimeZone& zone, int64_t t) { return zone.ToCivil(t).ToString(); }

std::vector<std::string> NextRuns(const std::string& expr, const std::string& zone_name, int64_t after, int n) {
  auto s = Schedule::Parse(expr, zone_name);
  EXPECT_TRUE(s.ok()) << s.status().message();
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    after = *s->Next(after);
    out.push_back(Civil(s->zone(), after) + " " + std::to_string(s->zone().OffsetAt(after) / 3600));
  }
  return out;
}

TEST(CronTest, ParsesFieldsNamesAndMacros) {
  auto e = CronExpression::Parse("*/15 9-17 * jan-mar,dec mon-fri");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_TRUE(e->Matches({2026, 1, 5, 9, 45, 1}));
  EXPECT_FALSE(e->Matches({2026, 1, 4, 9, 45, 0}));   // a Sunday
  EXPECT_FALSE(e->Matches({2026, 4, 6, 9, 45, 1}));   // April
  EXPECT_FALSE(e->Matches({2026, 1, 5, 18, 0, 1}));
  EXPECT_FALSE(e->fixed_time());
  EXPECT_TRUE(CronExpression::Parse("@daily")->Matches({2026, 7, 1, 0, 0, 3}));
  EXPECT_TRUE(CronExpression::Parse("0 0 * * 7")->Matches({2026, 1, 4, 0, 0, 0}));  // 7 is Sunday
  EXPECT_TRUE(CronExpression::Parse("30 2 * * *")->fixed_time());
}

TEST(CronTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  auto e = CronExpression::Parse("0 0 13 * fri");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->Matches({2026, 2, 13, 0, 0, 5}));   // both
  EXPECT_TRUE(e->Matches({2026, 2, 6, 0, 0, 5}));    // a Friday
  EXPECT_TRUE(e->Matches({2026, 1, 13, 0, 0, 2}));   // the 13th
  auto and_rule = CronExpression::Parse("0 0 */2 * fri");  // '*' first: both must match
  EXPECT_FALSE(and_rule->Matches({2026, 2, 6, 0, 0, 5}));  // the 6th is even
  EXPECT_TRUE(and_rule->Matches({2026, 2, 13, 0, 0, 5}));
}

TEST(CronTest, ErrorsNameTheField) {
  auto m = [](const char* text) { return CronExpression::Parse(text).status().message(); };
  EXPECT_EQ(m("0 25 * * *"), "hour field '25': 25 is out of range 0-23");
  EXPECT_EQ(m("0 0 * foo *"), "month field 'foo': 'foo' is not a number or a name");
  EXPECT_EQ(m("0 0 * *"), "cron expression '0 0 * *' has 4 fields; it needs 5: minute hour day-of-month month day-of-week");
  EXPECT_EQ(m("5-1 * * * *"), "minute field '5-1': range 5-1 runs backwards");
  EXPECT_EQ(m("*/0 * * * *"), "minute field '*/0': step '0' must be a number from 1 to 59");
  EXPECT_EQ(m("0 0 30 2 *"), "cron expression '0 0 30 2 *' never matches a real date");
  EXPECT_EQ(m("@fortnightly"), "'@fortnightly' is not a cron macro (@hourly, @daily, @weekly, @monthly, @yearly)");
  EXPECT_EQ(Schedule::Parse("@daily", "Mars/Olympus").status().message(),
            "unknown time zone 'Mars/Olympus' (an IANA name such as Europe/Berlin or UTC)");
}

TEST(CronTest, LeapDayAndSteps) {
  auto utc = TimeZone::Utc();
  EXPECT_EQ(NextRuns("0 12 29 2 *", "UTC", At(utc, 2025, 1, 1, 0, 0), 2),
            (std::vector<std::string>{"2028-02-29 12:00 0", "2032-02-29 12:00 0"}));
  EXPECT_EQ(NextRuns("5/20 * * * *", "UTC", At(utc, 2026, 1, 1, 0, 0), 4),
            (std::vector<std::string>{"2026-01-01 00:05 0", "2026-01-01 00:25 0", "2026-01-01 00:45 0",
                                      "2026-01-01 01:05 0"}));
}

// Clocks in Berlin jump from 02:00 to 03:00 on 2026-03-29.
TEST(CronTest, SkippedTimeRunsAtTheGapsEndOnlyForFixedTimeJobs) {
  auto berlin = *TimeZone::Load("Europe/Berlin");
  const int64_t before = At(berlin, 2026, 3, 28, 12, 0);
  EXPECT_EQ(NextRuns("30 2 * * *", "Europe/Berlin", before, 3),
            (std::vector<std::string>{"2026-03-29 03:00 2", "2026-03-30 02:30 2", "2026-03-31 02:30 2"}));
  EXPECT_EQ(NextRuns("30 * * * *", "Europe/Berlin", At(berlin, 2026, 3, 29, 1, 0), 3),
            (std::vector<std::string>{"2026-03-29 01:30 1", "2026-03-29 03:30 2", "2026-03-29 04:30 2"}));
}

// Clocks in New York go back from 02:00 to 01:00 on 2026-11-01.
TEST(CronTest, RepeatedTimeRunsOnceForFixedTimeJobsAndTwiceOtherwise) {
  auto ny = *TimeZone::Load("America/New_York");
  const int64_t evening = At(ny, 2026, 10, 31, 20, 0);
  EXPECT_EQ(NextRuns("30 1 * * *", "America/New_York", evening, 2),
            (std::vector<std::string>{"2026-11-01 01:30 -4", "2026-11-02 01:30 -5"}));
  EXPECT_EQ(NextRuns("30 * * * *", "America/New_York", At(ny, 2026, 11, 1, 0, 0), 4),
            (std::vector<std::string>{"2026-11-01 00:30 -4", "2026-11-01 01:30 -4", "2026-11-01 01:30 -5",
                                      "2026-11-01 02:30 -5"}));
  // From inside the repeated hour's first pass, its second pass still comes.
  const int64_t first_pass = ny.FromCivil({2026, 11, 1, 1, 45}).first;
  EXPECT_EQ(NextRuns("*/10 * * * *", "America/New_York", first_pass, 3),
            (std::vector<std::string>{"2026-11-01 01:50 -4", "2026-11-01 01:00 -5", "2026-11-01 01:10 -5"}));
}

TEST(ScheduleTest, IntervalsAndLookups) {
  auto s = Schedule::Parse("@every 6h", "");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s->Next(0), 6 * 3600);
  EXPECT_EQ(*s->Next(6 * 3600), 12 * 3600);
  EXPECT_EQ(*s->LastAtOrBefore(13 * 3600), 12 * 3600);
  EXPECT_EQ(s->Between(0, 24 * 3600, 10).size(), 4u);
  EXPECT_FALSE(Schedule::Parse("@every 10s", "").ok());
  auto daily = Schedule::Parse("0 1 * * *", "UTC");
  EXPECT_EQ(*daily->LastAtOrBefore(86400 * 10 + 3600), 86400 * 10 + 3600);
  EXPECT_EQ(*daily->LastAtOrBefore(86400 * 10 + 3599), 86400 * 9 + 3600);
  auto yearly = Schedule::Parse("@yearly", "UTC");
  EXPECT_EQ(*yearly->LastAtOrBefore(At(TimeZone::Utc(), 2026, 12, 7, 0, 0)), At(TimeZone::Utc(), 2026, 1, 1, 0, 0));
}

}  // namespace
}  // namespace backspan::schedule
