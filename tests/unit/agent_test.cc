// The agent's configuration and the timeline of a policy's runs, driven
// through days of schedules on a clock the test sets.
#include <gtest/gtest.h>

#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "agent/agent.h"
#include "agent/config.h"
#include "fault_env.h"
#include "agent/policy_timeline.h"
#include "env/env.h"
#include "test_util.h"

namespace backspan::agent {
namespace {

constexpr int64_t kDay = 86400, kHour = 3600, kMinute = 60;
constexpr int64_t kMonday = 1796601600;  // 2026-12-07 00:00 UTC

class AgentConfigTest : public ::testing::Test {
 protected:
  Result<AgentConfig> Load(const std::string& text) {
    const std::string path = dir_.path() + "/agent.toml";
    std::ofstream(path) << text;
    return LoadAgentConfig(Env::Default(), path, "/usr/bin/backspan", "host-a");
  }
  std::string Policy(const std::string& extra) {
    std::ofstream(dir_.path() + "/pw") << "secret\n";
    return "[agent]\nstate_dir = \"" + dir_.path() + "/state\"\n[[policy]]\nname = \"etc\"\nrepository = \"/srv/repo\"\n"
           "password_file = \"" + dir_.path() + "/pw\"\npaths = [\"/etc\"]\nschedule = \"0 1 * * *\"\n" + extra;
  }
  backspan::testing::TempDir dir_;
};

TEST_F(AgentConfigTest, ReadsAFullPolicy) {
  auto c = Load(Policy(R"(timezone = "Europe/Berlin"
random_delay = "10m"
done_by = "05:00"
exclude = ["*.tmp"]
tags = { "azure.resource_group.name" = "rg-web", env = "prod" }
retention = { keep-daily = 7, keep-within = "1m" }
[policy.hooks]
before = ["true"]
[policy.retry]
attempts = 3
delay = "5m"
[policy.forget]
schedule = "0 6 * * 0"
[policy.check]
schedule = "@monthly"
read_data_subset = "10%"
)"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->policies.size(), 1u);
  const agent::Policy& p = c->policies[0];
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(c->host, "host-a");
  EXPECT_EQ(p.tags.size(), 2u);
  EXPECT_EQ(p.retention.at("keep-daily"), "7");
  EXPECT_EQ(p.retry.attempts, 3);
  EXPECT_EQ(p.retry.DelayBefore(2), 300);
  EXPECT_EQ(p.retry.DelayBefore(3), 600);
  EXPECT_EQ(p.check_subset, "10%");
  // 01:00 Berlin in winter is 00:00 UTC; done by 05:00 Berlin.
  const int64_t tick = *p.schedule->Next(kMonday);
  EXPECT_EQ(tick, kMonday + kDay);
  EXPECT_EQ(p.Deadline(tick), tick + 4 * kHour);
  EXPECT_GE(p.StartTime(tick, "host-a"), tick);
  EXPECT_LE(p.StartTime(tick, "host-a"), tick + 10 * kMinute);
  EXPECT_EQ(p.StartTime(tick, "host-a"), p.StartTime(tick, "host-a"));
}

TEST_F(AgentConfigTest, ABrokenPolicyNamesItselfAndTheFieldAndSparesTheOthers) {
  auto error_of = [&](const std::string& extra) {
    auto c = Load(Policy(extra) + "[[policy]]\nname = \"good\"\nrepository = \"/r\"\npassword_file = \"" + dir_.path() + "/pw\"\n"
                                  "paths = [\"/home\"]\nschedule = \"@daily\"\n");
    EXPECT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->policies.size(), 2u);
    EXPECT_EQ(c->policies[1].error, "");
    return c->policies[0].error;
  };
  EXPECT_EQ(error_of("timezone = \"Mars/Base\"\n"),
            "policy 'etc': schedule: unknown time zone 'Mars/Base' (an IANA name such as Europe/Berlin or UTC)");
  EXPECT_EQ(error_of("window = \"25h\"\n"),
            "policy 'etc': window: the run of 2026-01-01 01:00 would still be in its window when the next run is due; "
            "windows must not overlap");
  EXPECT_EQ(error_of("retention = { keep-dialy = 7 }\n").substr(0, 49), "policy 'etc': retention: unknown retention option");
  EXPECT_EQ(error_of("colour = \"blue\"\n"), "policy 'etc': unknown setting 'colour'");
  EXPECT_EQ(error_of("[policy.retry]\nattempts = 0\n"), "policy 'etc': retry: attempts must be a whole number from 1 to 100");
}

TEST_F(AgentConfigTest, ABadScheduleIsOneLineNamingThePolicy) {
  auto c = Load("[agent]\nstate_dir = \"/tmp/x\"\n[[policy]]\nname = \"db\"\nrepository = \"/r\"\n"
                "password_command = \"echo pw\"\npaths = [\"/var\"]\nschedule = \"0 25 * * *\"\n");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->policies[0].error, "policy 'db': schedule: hour field '25': 25 is out of range 0-23");
}

TEST_F(AgentConfigTest, AFileNamedThroughALinkIsRead) {
  ASSERT_TRUE(Load(Policy("")).ok());
  ASSERT_EQ(symlink((dir_.path() + "/agent.toml").c_str(), (dir_.path() + "/link.toml").c_str()), 0);
  auto c = LoadAgentConfig(Env::Default(), dir_.path() + "/link.toml", "/usr/bin/backspan", "host-a");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->policies.size(), 1u);
}

TEST_F(AgentConfigTest, MalformedFilesNameTheLine) {
  auto c = Load("[agent]\nstate_dir = \n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("agent.toml:2:"), std::string::npos) << c.status().message();
  EXPECT_EQ(Load("[agent]\n").status().message(), "[agent]: state_dir is missing");
}

// A daily policy at 01:00 UTC with a window to 05:00.
class TimelineTest : public ::testing::Test {
 protected:
  TimelineTest() {
    policy_.name = "etc";
    policy_.schedule = *schedule::Schedule::Parse("0 1 * * *", "UTC");
    policy_.window_seconds = 4 * kHour;
  }
  static std::string Describe(const std::vector<Action>& actions) {
    std::string out;
    for (const Action& a : actions) {
      if (!out.empty()) out += ", ";
      const int64_t day = (a.tick - kMonday) / kDay;
      switch (a.kind) {
        case Action::kBackup: out += "backup d" + std::to_string(day) + " #" + std::to_string(a.attempt) + (a.catch_up ? " catch-up" : ""); break;
        case Action::kForget: out += "forget"; break;
        case Action::kCheck: out += "check"; break;
        case Action::kRestore: out += "restore"; break;
        case Action::kMissed:
          out += "missed d" + std::to_string(day) + " " + a.reason;
          if (a.missed_before) out += " +" + std::to_string(a.missed_before);
          break;
      }
    }
    return out;
  }
  agent::Policy policy_;
};

TEST_F(TimelineTest, RunsEachTickOnceAndNothingBeforeTheFirst) {
  {
    // First sight at 02:00, inside today's window: today's run is due.
    PolicyTimeline t(&policy_, "h", {});
    EXPECT_EQ(Describe(t.Poll(kMonday + 2 * kHour)), "backup d0 #1 catch-up");
  }
  PolicyTimeline t(&policy_, "h", {});
  EXPECT_EQ(Describe(t.Poll(kMonday + 6 * kHour)), "");  // first sight at 06:00: the next tick is tomorrow's
  EXPECT_EQ(t.NextWake(kMonday + 6 * kHour), kMonday + kDay + kHour);
  EXPECT_EQ(Describe(t.Poll(kMonday + kDay + kHour)), "backup d1 #1");
  EXPECT_EQ(Describe(t.Poll(kMonday + kDay + kHour + 5)), "");
  EXPECT_EQ(Describe(t.Finished(kMonday + kDay + 2 * kHour, Outcome::kOk)), "");
  EXPECT_EQ(Describe(t.Poll(kMonday + kDay + 3 * kHour)), "");
  EXPECT_EQ(t.state().last_success, kMonday + kDay + 2 * kHour);
}

TEST_F(TimelineTest, OverlappingTicksAreSkippedAndAnOverrunIsReportedOnce) {
  PolicyTimeline t(&policy_, "h", {});
  t.Poll(kMonday);
  EXPECT_EQ(Describe(t.Poll(kMonday + kHour)), "backup d0 #1");
  EXPECT_EQ(Describe(t.Poll(kMonday + 5 * kHour)), "missed d0 overrun");
  EXPECT_EQ(Describe(t.Poll(kMonday + 6 * kHour)), "");
  // Still running a day later: the next tick is skipped, not queued.
  EXPECT_EQ(Describe(t.Poll(kMonday + kDay + kHour)), "missed d1 skipped");
  EXPECT_EQ(Describe(t.Finished(kMonday + kDay + 2 * kHour, Outcome::kOk)), "");
  EXPECT_EQ(Describe(t.Poll(kMonday + kDay + 3 * kHour)), "");
  EXPECT_EQ(Describe(t.Poll(kMonday + 2 * kDay + kHour)), "backup d2 #1");
}

TEST_F(TimelineTest, AfterDowntimeOneCatchUpRunAndTheMissedTicksReported) {
  PolicyState saved;
  {
    PolicyTimeline t(&policy_, "h", {});
    t.Poll(kMonday);
    t.Poll(kMonday + kHour);
    t.Finished(kMonday + kHour + 60, Outcome::kOk);
    saved = t.state();
  }
  // Down from Monday to Thursday 03:00: Tuesday and Wednesday passed, and
  // Thursday's window is still open.
  PolicyTimeline t(&policy_, "h", saved);
  EXPECT_EQ(Describe(t.Poll(kMonday + 3 * kDay + 3 * kHour)), "missed d1 agent_down, missed d2 agent_down, backup d3 #1 catch-up");
  t.Finished(kMonday + 3 * kDay + 4 * kHour, Outcome::kOk);
  // Down 40 days: the newest 24 missed ticks reported, the older counted;
  // the window of the last has passed too, and one catch-up run.
  auto actions = t.Poll(kMonday + 43 * kDay + 12 * kHour);
  EXPECT_EQ(actions.size(), kMaxMissedReports + 2);
  EXPECT_EQ(Describe({actions.front()}), "missed d19 agent_down +15");
  EXPECT_EQ(Describe({actions[actions.size() - 2], actions.back()}), "missed d43 agent_down, backup d43 #1 catch-up");
}

TEST_F(TimelineTest, RetriesWithBackoffWhileTheWindowLasts) {
  policy_.retry.attempts = 5;
  policy_.retry.delay_seconds = 30 * kMinute;
  policy_.retry.backoff = 2;
  PolicyTimeline t(&policy_, "h", {});
  t.Poll(kMonday);
  int64_t now = kMonday + kHour;
  EXPECT_EQ(Describe(t.Poll(now)), "backup d0 #1");
  EXPECT_EQ(Describe(t.Finished(now += 60, Outcome::kFailed)), "");
  EXPECT_EQ(t.NextWake(now), now + 30 * kMinute);
  EXPECT_EQ(Describe(t.Poll(now + 29 * kMinute)), "");
  EXPECT_EQ(Describe(t.Poll(now += 30 * kMinute)), "backup d0 #2");
  EXPECT_EQ(Describe(t.Finished(now += 60, Outcome::kFailed)), "");
  EXPECT_EQ(Describe(t.Poll(now += 60 * kMinute)), "backup d0 #3");
  EXPECT_EQ(Describe(t.Finished(now += 60, Outcome::kFailed)), "");
  EXPECT_EQ(Describe(t.Poll(now += 120 * kMinute)), "backup d0 #4");  // 04:34
  // The next retry would come four hours later, after 05:00: the tick is missed.
  EXPECT_EQ(Describe(t.Finished(now += 60, Outcome::kFailed)), "missed d0 failed");
  EXPECT_EQ(Describe(t.Poll(kMonday + kDay + kHour)), "backup d1 #1");
  EXPECT_EQ(Describe(t.Finished(kMonday + kDay + kHour + 60, Outcome::kPartial)), "");
  EXPECT_EQ(t.state().last_outcome, "partial");
}

TEST_F(TimelineTest, AnInterruptedRunResumesIfItsWindowLasts) {
  PolicyTimeline t(&policy_, "h", {});
  t.Poll(kMonday);
  t.Poll(kMonday + kHour);
  t.Finished(kMonday + kHour + 600, Outcome::kInterrupted);
  PolicyTimeline again(&policy_, "h", t.state());
  EXPECT_EQ(Describe(again.Poll(kMonday + 2 * kHour)), "backup d0 #2");
  // An agent killed mid-run leaves the run behind; on restart past the
  // window the tick is reported missed.
  PolicyTimeline killed(&policy_, "h", again.state());
  killed.Recover(kMonday + 6 * kHour);
  EXPECT_EQ(Describe(killed.Poll(kMonday + 6 * kHour)), "missed d0 failed");
}

TEST_F(TimelineTest, RequestedRunsWaitTheirTurnAndOnlyABackupCountsAsSuccess) {
  PolicyTimeline t(&policy_, "h", {});
  t.Poll(kMonday);
  ASSERT_TRUE(t.StartManual(Action::kRestore));
  EXPECT_FALSE(t.StartManual(Action::kBackup));  // one run at a time
  // The tick comes while the restore runs: it waits, not skipped.
  EXPECT_EQ(Describe(t.Poll(kMonday + kHour)), "");
  t.Finished(kMonday + kHour + 60, Outcome::kOk);
  EXPECT_EQ(t.state().last_success, 0);  // a restore is not a backup
  EXPECT_EQ(Describe(t.Poll(kMonday + kHour + 61)), "backup d0 #1 catch-up");  // a minute late
  t.Finished(kMonday + kHour + 120, Outcome::kOk);
  ASSERT_TRUE(t.StartManual(Action::kBackup));
  t.Finished(kMonday + 3 * kHour, Outcome::kOk);
  EXPECT_EQ(t.state().last_success, kMonday + 3 * kHour);
}

TEST_F(TimelineTest, MaintenanceRunsBetweenBackupsOnceAfterDowntime) {
  policy_.forget_schedule = *schedule::Schedule::Parse("0 4 * * *", "UTC");
  policy_.check_schedule = *schedule::Schedule::Parse("0 7 * * *", "UTC");
  PolicyTimeline t(&policy_, "h", {});
  t.Poll(kMonday);
  EXPECT_EQ(Describe(t.Poll(kMonday + kHour)), "backup d0 #1");
  EXPECT_EQ(Describe(t.Poll(kMonday + 4 * kHour)), "");  // the backup still runs: forget waits
  t.Finished(kMonday + 6 * kHour, Outcome::kOk);
  EXPECT_EQ(Describe(t.Poll(kMonday + 6 * kHour + 61)), "forget");
  EXPECT_EQ(Describe(t.Poll(kMonday + 7 * kHour)), "");
  t.Finished(kMonday + 7 * kHour + 10, Outcome::kOk);
  EXPECT_EQ(Describe(t.Poll(kMonday + 7 * kHour + 11)), "check");
  t.Finished(kMonday + 7 * kHour + 20, Outcome::kOk);
  // Three days down: one backup, then one forget and one check.
  EXPECT_EQ(Describe(t.Poll(kMonday + 3 * kDay + 8 * kHour)),
            "missed d1 agent_down, missed d2 agent_down, missed d3 agent_down, backup d3 #1 catch-up");
  t.Finished(kMonday + 3 * kDay + 9 * kHour, Outcome::kOk);
  EXPECT_EQ(Describe(t.Poll(kMonday + 3 * kDay + 9 * kHour)), "forget");
  t.Finished(kMonday + 3 * kDay + 9 * kHour, Outcome::kOk);
  EXPECT_EQ(Describe(t.Poll(kMonday + 3 * kDay + 9 * kHour)), "check");
}

}  // namespace
}  // namespace backspan::agent

namespace backspan::agent {
namespace {

// The POSIX Env with a clock the test sets.
class ClockEnv : public backspan::testing::FaultEnv {
 public:
  int64_t now_s = 0;
  int64_t NowUnixNanos() override { return now_s * 1'000'000'000; }
};

// The real Agent (threads, processes, state file, job history) on a clock
// that jumps: a week of a daily schedule, a failure retried in its window,
// and three days of downtime, in about a second. The jobs are a script
// standing in for backspan that exits with what the test asks.
TEST(AgentClockTest, AWeekOfADailyScheduleOnAClockTheTestTurns) {
  backspan::testing::TempDir dir;
  const std::string calls = dir.path() + "/calls", exit_code = dir.path() + "/exit";
  const std::string program = dir.path() + "/fake-backspan";
  std::ofstream(program) << "#!/bin/sh\necho \"$@\" >> " << calls << "\nexit $(cat " << exit_code << " 2>/dev/null || echo 0)\n";
  ASSERT_EQ(chmod(program.c_str(), 0755), 0);
  std::ofstream(dir.path() + "/pw") << "pw\n";
  std::ofstream(dir.path() + "/agent.toml")
      << "[agent]\nhost = \"h\"\nstate_dir = \"" << dir.path() << "/state\"\nprogram = \"" << program << "\"\n"
      << "[[policy]]\nname = \"etc\"\nrepository = \"/r\"\npassword_file = \"" << dir.path() << "/pw\"\n"
      << "paths = [\"/etc\"]\nschedule = \"0 1 * * *\"\nwindow = \"4h\"\nretention = { keep-last = 3 }\n"
      << "[policy.retry]\nattempts = 2\ndelay = \"30m\"\n[policy.forget]\nschedule = \"0 6 * * 0\"\n";
  ClockEnv env;
  env.now_s = kMonday;  // 2026-12-07 00:00 UTC, a Monday
  auto config = LoadAgentConfig(&env, dir.path() + "/agent.toml", program, "h");
  ASSERT_TRUE(config.ok()) << config.status().message();
  std::vector<std::string> log;
  std::mutex log_mu;
  auto run_hours = [&](int hours) {
    int worst = 0;
    for (int i = 0; i < hours; ++i) {
      Agent agent(&*config, &env, [&](const std::string& line) {
        std::lock_guard<std::mutex> lock(log_mu);
        log.push_back(line);
      });
      EXPECT_TRUE(agent.Open().ok());
      worst = std::max(worst, agent.RunOnce(0));
      env.now_s += kHour;
    }
    return worst;
  };
  auto count = [&](const std::string& needle) {
    return std::count_if(log.begin(), log.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  };
  // Monday: one backup at 01:00.
  EXPECT_EQ(run_hours(24), 0);
  EXPECT_EQ(count("backup ok"), 1);
  // Tuesday's first attempt fails; the retry half an hour later (the next
  // hourly run) succeeds inside the window.
  std::ofstream(exit_code) << "1\n";
  run_hours(2);  // 00:00, 01:00: attempt 1 fails
  std::ofstream(exit_code) << "0\n";
  run_hours(22);
  EXPECT_EQ(count("backup failed"), 1);
  EXPECT_EQ(count("(attempt 2)"), 1);
  EXPECT_EQ(count("backup ok"), 2);
  EXPECT_EQ(count("missed"), 0);
  // Down from Wednesday 00:00 to Saturday 03:00: one catch-up run for
  // Saturday, Wednesday to Friday reported missed.
  env.now_s += 3 * kDay + 3 * kHour;
  run_hours(21);
  EXPECT_EQ(count("missed its run of"), 3);
  EXPECT_EQ(count("(catching up)"), 1);
  EXPECT_EQ(count("backup ok"), 3);
  // Sunday: the backup, then forget at 06:00.
  run_hours(24);
  EXPECT_EQ(count("backup ok"), 4);
  EXPECT_EQ(count("forget for"), 1);
  std::ifstream in(calls);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(all.find("--keep-last 3 --prune"), std::string::npos) << all;
}

}  // namespace
}  // namespace backspan::agent
