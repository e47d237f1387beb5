// Incidents as Healthchecks.io keeps them: one notification per problem, a
// reminder while it stays open, "recovered" when it clears, across a
// restart; retries of a failing channel; rules that filter by resource
// group and tags. Channels here are commands writing to a file.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "fault_env.h"
#include "notify/notifier.h"
#include "test_util.h"

namespace backspan::notify {
namespace {

class ClockEnv : public backspan::testing::FaultEnv {
 public:
  int64_t now_s = 1796601600;
  int64_t NowUnixNanos() override { return now_s * 1'000'000'000; }
};

class NotifierTest : public ::testing::Test {
 protected:
  NotifierTest() {
    out_ = dir_.path() + "/out";
    config_.reminder_seconds = 3600;
    ChannelConfig c;
    c.name = "cmd";
    c.type = "command";
    c.command = "echo \"$BACKSPAN_EVENT $BACKSPAN_INCIDENT\" >> " + out_;
    config_.channels.push_back(c);
    Rule rule;
    rule.on = {EventKind::kFailure, EventKind::kOverdue, EventKind::kRecovered};
    rule.channels = {"cmd"};
    rule.resource_groups = {"rg-a"};
    config_.rules.push_back(rule);
  }
  std::unique_ptr<Notifier> Make() {
    auto n = std::make_unique<Notifier>(config_, &env_, dir_.path() + "/state.json", nullptr);
    EXPECT_TRUE(n->Open().ok());
    return n;
  }
  static Event E(EventKind kind, const std::string& rg = "rg-a") {
    Event e;
    e.kind = kind;
    e.key = "source-" + rg;
    e.host = "h";
    e.resource_group = rg;
    return e;
  }
  std::vector<std::string> Lines() {
    std::ifstream in(out_);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }
  backspan::testing::TempDir dir_;
  std::string out_;
  ClockEnv env_;
  NotifyConfig config_;
};

TEST_F(NotifierTest, OnePerIncidentARemindAndARecoveryAcrossARestart) {
  {
    auto n = Make();
    n->Publish(E(EventKind::kFailure));
    n->Publish(E(EventKind::kFailure));    // the same incident: no news
    n->Publish(E(EventKind::kFailure, "rg-b"));  // no rule for rg-b
    n->Publish(E(EventKind::kRecovered, "rg-c"));  // nothing was wrong there
    ASSERT_TRUE(n->Drain(10'000));
    ASSERT_EQ(Lines().size(), 1u);
    env_.now_s += 1800;
    n->Remind();
    ASSERT_TRUE(n->Drain(10'000));
    EXPECT_EQ(Lines().size(), 1u);  // not yet an hour
    EXPECT_EQ(n->stats().open_incidents, 2);  // rg-b's is open too, with no channel
  }
  // Restarted: the incident is still open, and an hour on it is reminded of.
  env_.now_s += 1900;
  auto n = Make();
  n->Remind();
  n->Publish(E(EventKind::kRecovered));
  ASSERT_TRUE(n->Drain(10'000));
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 3u);
  const std::string incident = lines[0].substr(lines[0].find(' ') + 1);
  EXPECT_EQ(lines[0], "failure " + incident);
  EXPECT_EQ(lines[1], "failure " + incident);  // the reminder
  EXPECT_EQ(lines[2], "recovered " + incident);
  EXPECT_EQ(n->stats().open_incidents, 1);  // rg-b's
}

TEST_F(NotifierTest, AFailingChannelIsRetriedAndTheOutcomeRecorded) {
  // Fails once, then delivers.
  config_.channels[0].command = "test -e " + dir_.path() + "/once || { touch " + dir_.path() + "/once; exit 1; }; echo ok >> " + out_;
  std::vector<Delivery> deliveries;
  std::mutex mu;
  Notifier n(config_, &env_, "", [&](const Delivery& d) {
    std::lock_guard<std::mutex> lock(mu);
    deliveries.push_back(d);
  });
  ASSERT_TRUE(n.Open().ok());
  n.Publish(E(EventKind::kOverdue));
  ASSERT_TRUE(n.Drain(20'000));
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_TRUE(deliveries[0].result.ok());
  EXPECT_EQ(deliveries[0].attempts, 2);
  EXPECT_EQ(Lines(), std::vector<std::string>{"ok"});
  EXPECT_EQ(n.stats().delivered, 1);
}

TEST(NotifyConfigTest, ABadFileNamesTheTableAndField) {
  backspan::testing::TempDir dir;
  auto load = [&](const std::string& text) {
    std::ofstream(dir.path() + "/n.toml") << text;
    return LoadNotifyConfig(Env::Default(), dir.path() + "/n.toml").status().message();
  };
  EXPECT_EQ(load("[[channel]]\nname = \"x\"\ntype = \"pager\"\nurl = \"http://h\"\n"),
            "channel 'x': unknown type 'pager' (webhook, slack, teams, ntfy, email, command)");
  EXPECT_EQ(load("[[channel]]\nname = \"m\"\ntype = \"email\"\nurl = \"smtp://h\"\n"), "channel 'm': an email channel needs from and to");
  EXPECT_EQ(load("[[channel]]\nname = \"c\"\ntype = \"command\"\ncommand = \"true\"\n[[rule]]\non = [\"failed\"]\nchannels = [\"c\"]\n"),
            "rule 1: on: unknown event 'failed' (failure, partial, missed, overdue, recovered, anomaly, forecast)");
  EXPECT_EQ(load("[[rule]]\non = [\"failure\"]\nchannels = [\"nope\"]\n"), "rule 1: channels: no channel is named 'nope'");
}

TEST(WebhookSignatureTest, IsHmacSha256OfTheTimeAndBody) {
  // Python: hmac.new(b"key", b"1700000000.{}", hashlib.sha256).hexdigest()
  EXPECT_EQ(WebhookSignature("key", 1700000000, "{}"),
            "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae");
}

}  // namespace
}  // namespace backspan::notify
