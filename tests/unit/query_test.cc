// The observatory's read side below HTTP: the one Scope check, trace views
// filtered by the store, the JSON API's handlers, trends, freshness and
// /metrics, on a real store with jobs written through the OTLP decoder.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "env/env.h"
#include "observatory/access/scope.h"
#include "observatory/api/query_api.h"
#include "observatory/ingest/agent_heartbeat.h"
#include "observatory/ingest/otlp_decoder.h"
#include "observatory/query/freshness.h"
#include "observatory/query/metrics.h"
#include "observatory/query/trace_view.h"
#include "observatory/store/sqlite/sqlite_span_store.h"
#include "test_stores.h"
#include "test_util.h"
#include "trace/export/otlp_encoding.h"
#include "trace/semconv.h"

namespace backspan::observatory {
namespace {

using nlohmann::json;
constexpr int64_t kSecond = 1'000'000'000, kHour = 3600 * kSecond, kDay = 24 * kHour;

TEST(ScopeTest, OneCheckHoldsTheResourceGroupsTheSelectorsAndTheAuditRule) {
  const Scope all = Scope::All();
  EXPECT_TRUE(all.Allows("rg-x", {}, true));
  EXPECT_TRUE(all.AllowsEverything());
  const Scope rg = Scope::Of({"RG-A"}, {{"env", "prod"}});
  EXPECT_TRUE(rg.Allows("rg-a", {}, false));  // Azure compares resource groups without case
  EXPECT_FALSE(rg.Allows("rg-b", {}, false));
  EXPECT_TRUE(rg.Allows("rg-b", {{"env", "prod"}}, false));
  EXPECT_FALSE(rg.Allows("", {}, false));
  EXPECT_FALSE(rg.Allows("rg-a", {}, true));  // the audit log needs audit.read
  Scope unrestricted_without_audit = Scope::All();
  unrestricted_without_audit.audit = false;
  EXPECT_FALSE(unrestricted_without_audit.AllowsEverything());
  EXPECT_FALSE(unrestricted_without_audit.Allows("rg-a", {}, true));
  EXPECT_TRUE(unrestricted_without_audit.Allows("rg-a", {}, false));

  // Span attributes: the resource group and string attributes decide; an
  // audit attribute makes it the audit log's.
  trace::Attributes attrs;
  trace::SetAttribute(attrs, semconv::kAzureResourceGroupName, std::string("rg-a"));
  EXPECT_TRUE(ScopeAllowsAttributes(rg, attrs));
  trace::SetAttribute(attrs, semconv::kAuditSeq, int64_t{7});
  EXPECT_FALSE(ScopeAllowsAttributes(rg, attrs));
  EXPECT_TRUE(ScopeAllowsAttributes(all, attrs));
}

// Jobs in two resource groups, written as an agent would send them.
class QueryTest : public ::testing::TestWithParam<testing::StoreKind> {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.sync_full = false;
    store_ = testing::OpenTestStore(GetParam(), o, dir_.Sub("store"));
    ASSERT_TRUE(store_);
    now_ = Env::Default()->NowUnixNanos();
  }

  // A backup job of `seconds` in `rg`, started `ago` before now, with one phase.
  trace::TraceId Write(uint8_t n, const std::string& rg, int64_t ago, int64_t seconds, int exit_code = 0) {
    trace::Resource resource;
    trace::SetAttribute(resource.attributes, semconv::kServiceName, std::string("backspan"));
    trace::SetAttribute(resource.attributes, semconv::kHostName, "host-" + rg);
    trace::SpanData root;
    root.trace_id[0] = n;
    root.span_id[0] = n;
    root.name = "backup";
    root.start_ns = now_ - ago;
    root.end_ns = root.start_ns + seconds * kSecond;
    trace::SetAttribute(root.attributes, semconv::kJobKind, std::string("backup"));
    trace::SetAttribute(root.attributes, semconv::kAzureResourceGroupName, rg);
    trace::SetAttribute(root.attributes, semconv::kProcessExitCode, int64_t{exit_code});
    trace::SetAttribute(root.attributes, semconv::kPaths, trace::StringArray{"/data"});
    if (exit_code != 0) root.status = trace::StatusCode::kError;
    trace::SpanData phase = root;
    phase.span_id[1] = 1;
    phase.parent_span_id = root.span_id;
    phase.name = "scan";
    phase.attributes.clear();
    auto batch = DecodeTraceRequest(trace::EncodeOtlpProtobuf(resource, "test", {root, phase}), WireFormat::kProtobuf,
                                    false);
    EXPECT_TRUE(batch.ok());
    EXPECT_TRUE(store_->Write(std::move(*batch), Scope::All()).ok());
    return root.trace_id;
  }

  json Answer(const ApiResponse& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    return json::parse(r.body);
  }

  testing::TempDir dir_;
  std::unique_ptr<SpanStore> store_;
  int64_t now_ = 0;
  const Scope rg_a_ = Scope::Of({"rg-a"}, {});
};

TEST_P(QueryTest, TheStoreLeavesOutOfATraceWhatTheScopeMayNotSee) {
  const trace::TraceId a = Write(1, "rg-a", kHour, 10);
  auto mine = store_->GetTrace(a, rg_a_);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->hidden, 1);  // the phase: it carries no resource group of its own
  EXPECT_FALSE(mine->finished.empty());
  auto theirs = store_->GetTrace(a, Scope::Of({"rg-b"}, {}));
  ASSERT_TRUE(theirs.ok());  // stored, but none of it visible
  EXPECT_TRUE(theirs->finished.empty() && theirs->live.empty());
  EXPECT_EQ(theirs->hidden, 2);
  trace::TraceId unknown{};
  unknown[0] = 99;
  EXPECT_EQ(store_->GetTrace(unknown, Scope::All()).status().code(), ErrorCode::kNotFound);

  const json view = json::parse(RenderTraceJson(trace::ToHex(a), *mine));
  ASSERT_EQ(view["spans"].size(), 1u);
  EXPECT_EQ(view["spans"][0]["name"], "backup");
  EXPECT_EQ(view["hidden_spans"], 1);
}

TEST_P(QueryTest, TheApiAnswersEachHandlerWithinTheCallersScope) {
  Write(1, "rg-a", 2 * kHour, 10);
  const trace::TraceId b = Write(2, "rg-b", kHour, 20, 1);
  Api api(store_.get(), Env::Default(), 26 * kHour);

  json jobs = Answer(api.Jobs({{}, Scope::All()}), 200);
  EXPECT_EQ(jobs["jobs"].size(), 2u);
  jobs = Answer(api.Jobs({{}, rg_a_}), 200);
  ASSERT_EQ(jobs["jobs"].size(), 1u);
  EXPECT_EQ(jobs["jobs"][0]["resource_group"], "rg-a");
  jobs = Answer(api.Jobs({{{"status", "failed"}}, Scope::All()}), 200);
  ASSERT_EQ(jobs["jobs"].size(), 1u);
  EXPECT_EQ(jobs["jobs"][0]["resource_group"], "rg-b");

  // A bad parameter is a 400 that names it.
  const json bad = Answer(api.Jobs({{{"limit", "lots"}}, Scope::All()}), 400);
  EXPECT_NE(bad["error"].get<std::string>().find("limit"), std::string::npos);
  EXPECT_NE(Answer(api.Trends({{{"bucket", "week"}}, Scope::All()}), 400)["error"].get<std::string>().find("bucket"),
            std::string::npos);

  // Another scope's trace does not exist for the caller, and says it was out of scope.
  const ApiResponse hidden = api.Trace(trace::ToHex(b), {{}, rg_a_});
  EXPECT_EQ(hidden.status, 404);
  EXPECT_TRUE(hidden.out_of_scope);
  EXPECT_EQ(api.Trace(trace::ToHex(b), {{}, Scope::All()}).status, 200);
  EXPECT_EQ(api.Trace("zz", {{}, Scope::All()}).status, 400);

  // Tag values only from jobs the caller may see.
  const json tags = Answer(api.Tags({{}, rg_a_}), 200);
  EXPECT_EQ(tags["tags"][semconv::kAzureResourceGroupName], json::array({"rg-a"}));
  const json all_tags = Answer(api.Tags({{}, Scope::All()}), 200);
  EXPECT_EQ(all_tags["tags"][semconv::kAzureResourceGroupName], json::array({"rg-a", "rg-b"}));
}

TEST_P(QueryTest, TrendsGroupByATagAndKeepToTheScope) {
  // Ten minutes into the hour that began about three hours ago: the jobs a
  // minute apart share an hour whatever the clock says.
  const int64_t ago = now_ - ((now_ - 3 * kHour) / kHour * kHour + 10 * 60 * kSecond);
  Write(1, "rg-a", ago, 10);
  Write(2, "rg-a", ago - 60 * kSecond, 30);
  Write(3, "rg-b", ago, 100);
  TrendQuery q;
  q.metric = TrendMetric::kDuration;
  q.group_by = semconv::kAzureResourceGroupName;
  q.since_ns = now_ - 6 * kHour;
  q.until_ns = now_;
  auto trend = store_->GetTrend(q, Scope::All());
  ASSERT_TRUE(trend.ok()) << trend.status().message();
  ASSERT_EQ(trend->series.size(), 2u);
  for (const TrendSeries& s : trend->series) {
    int64_t jobs = 0;
    double mean = 0;
    for (size_t i = 0; i < s.jobs.size(); ++i)
      if (s.jobs[i] > 0) {
        jobs += s.jobs[i];
        mean = s.value[i];
      }
    if (s.group == "rg-a") {
      EXPECT_EQ(jobs, 2);
      EXPECT_NEAR(mean, 20.0, 1e-9);  // (10 s + 30 s) / 2, both in one hour
    } else {
      EXPECT_EQ(s.group, "rg-b");
      EXPECT_EQ(jobs, 1);
      EXPECT_NEAR(mean, 100.0, 1e-9);
    }
  }
  auto scoped = store_->GetTrend(q, rg_a_);
  ASSERT_TRUE(scoped.ok());
  ASSERT_EQ(scoped->series.size(), 1u);
  EXPECT_EQ(scoped->series[0].group, "rg-a");
}

TEST_P(QueryTest, FreshnessLearnsTheScheduleAndMetricsShowIt) {
  // Three daily successes: the schedule is learned, overdue after two days.
  for (uint8_t i = 0; i < 3; ++i) Write(i + 1, "rg-a", (3 - i) * kDay, 10);
  auto sources = store_->Sources(Scope::All());
  ASSERT_TRUE(sources.ok());
  ASSERT_EQ(sources->size(), 1u);
  const Freshness f = EvaluateFreshness((*sources)[0], nullptr, now_, 26 * kHour);
  EXPECT_EQ(f.expected_interval_ns, kDay);
  EXPECT_EQ(f.overdue_after_ns, 2 * kDay);
  EXPECT_FALSE(f.overdue);  // the last success was a day ago
  EXPECT_TRUE(EvaluateFreshness((*sources)[0], nullptr, now_ + 2 * kDay, 26 * kHour).overdue);

  MetricsInput in;
  in.sources = *sources;
  in.job_counts = *store_->JobCounts(Scope::All());
  in.now_ns = now_;
  in.default_stale_ns = 26 * kHour;
  IngestCounters counters;
  in.ingest = &counters;
  const std::string text = RenderMetrics(in);
  EXPECT_NE(text.find("backspan_backup_success_total{"), std::string::npos) << text;
  EXPECT_NE(text.find("backspan_backup_overdue{"), std::string::npos);
  EXPECT_NE(text.find("backspan_ingest_requests_total"), std::string::npos);
  EXPECT_NE(text.find("# TYPE backspan_backup_duration_seconds histogram"), std::string::npos);
  // A caller who may not read everything sees no server-wide counters.
  in.server_wide = false;
  EXPECT_EQ(RenderMetrics(in).find("backspan_ingest_requests_total"), std::string::npos);
}

}  // namespace
}  // namespace backspan::observatory

namespace backspan::observatory {
namespace {

// A daily 01:00 UTC policy declared by an agent, its window to 05:00, 30 min grace.
struct DeclaredFixture {
  AgentRecord agent;
  DeclaredFixture() {
    agent.name = agent.host = "web-01";
    DeclaredPolicy p;
    p.name = "etc";
    p.schedule = "0 1 * * *";
    p.timezone = "UTC";
    p.window_seconds = 4 * 3600;
    p.grace_seconds = 1800;
    p.paths = {"/etc"};
    p.source_key = "k";
    agent.policies.push_back(p);
  }
};

TEST(FreshnessTest, ADeclaredScheduleGivesHealthchecksStates) {
  DeclaredFixture d;
  std::vector<AgentRecord> agents = {d.agent};
  const auto declared = Declarations(agents);
  ASSERT_EQ(declared.size(), 1u);
  const Declaration* decl = &declared.at("k");
  constexpr int64_t kMonday = 1796601600 * kSecond;  // 2026-12-07 00:00 UTC
  SourceState s;
  s.key = "k";
  s.last_status = "ok";
  s.last_success_ns = kMonday + kHour + 60 * kSecond;  // Monday's 01:00 run
  auto state_at = [&](int64_t t) { return std::string(HealthName(EvaluateFreshness(s, decl, t, kDay).state)); };
  EXPECT_EQ(state_at(kMonday + 2 * kHour), "ok");
  EXPECT_EQ(state_at(kMonday + kDay + 4 * kHour), "ok");                  // Tuesday's run may still come
  EXPECT_EQ(state_at(kMonday + kDay + 5 * kHour), "late");                // its window ended
  EXPECT_EQ(state_at(kMonday + kDay + 5 * kHour + 1800 * kSecond), "overdue");  // and the grace
  const Freshness f = EvaluateFreshness(s, decl, kMonday + kDay, kDay);
  EXPECT_EQ(f.expected_by_ns, kMonday + kDay + 5 * kHour);
  EXPECT_EQ(f.grace_ns, 1800 * kSecond);
  s.last_status = "failed";
  EXPECT_EQ(state_at(kMonday + 2 * kHour), "failing");
  s.last_status = "running";
  EXPECT_EQ(state_at(kMonday + kDay + 6 * kHour), "running");
  // The agent said a run was going, then died: overdue, not running forever.
  s.last_status = "ok";
  agents[0].policies[0].running = true;
  agents[0].received_ns = kMonday + kHour;
  EXPECT_EQ(state_at(kMonday + kHour + 60 * kSecond), "running");
  EXPECT_EQ(state_at(kMonday + kDay + 6 * kHour), "overdue");
  agents[0].policies[0].running = false;
  agents[0].policies[0].paused = true;
  EXPECT_EQ(state_at(kMonday), "paused");
}

TEST(FreshnessTest, ADeclaredSourceWithoutJobsIsOnTheBoardAndGoesOverdue) {
  DeclaredFixture d;
  constexpr int64_t kMonday = 1796601600 * kSecond;
  d.agent.policies[0].first_declared_ns = kMonday;
  d.agent.received_ns = kMonday;
  const std::vector<AgentRecord> agents = {d.agent};
  const auto declared = Declarations(agents);
  auto board = FreshnessBoard({}, declared, kMonday + 2 * kHour, kDay);
  ASSERT_EQ(board.size(), 1u);
  EXPECT_EQ(board[0].source.host, "web-01");
  EXPECT_EQ(std::string(HealthName(board[0].freshness.state)), "ok");
  board = FreshnessBoard({}, declared, kMonday + 6 * kHour, kDay);
  EXPECT_EQ(std::string(HealthName(board[0].freshness.state)), "overdue");
  EXPECT_TRUE(AgentUp(d.agent, kMonday + 179 * kSecond));
  EXPECT_FALSE(AgentUp(d.agent, kMonday + 181 * kSecond));
}

TEST(HeartbeatTest, PoliciesOutsideTheWritersScopeOrWithBadSchedulesAreRejectedItems) {
  const std::string body = R"({"agent": "web-01", "host": "web-01", "interval_seconds": 60, "policies": [
    {"name": "a", "paths": ["/etc"], "tags": {"azure.resource_group.name": "rg-a"}, "schedule": "@daily", "timezone": "UTC"},
    {"name": "b", "paths": ["/srv"], "tags": {"azure.resource_group.name": "rg-b"}, "schedule": "@daily", "timezone": "UTC"},
    {"name": "c", "paths": ["/var"], "tags": {"azure.resource_group.name": "rg-a"}, "schedule": "0 25 * * *"}]})";
  auto parsed = ParseHeartbeat(body, Scope::Of({"rg-a"}, {}), 5);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->agent.policies.size(), 1u);
  EXPECT_EQ(parsed->agent.policies[0].source_key, "web-01\x1f" "backspan\x1f/etc\x1f" "azure.resource_group.name=rg-a,");
  ASSERT_EQ(parsed->rejected.size(), 2u);
  EXPECT_EQ(parsed->rejected[0], "policy 'b': outside what this caller may write (resource group 'rg-b')");
  EXPECT_EQ(parsed->rejected[1], "policy 'c': schedule: hour field '25': 25 is out of range 0-23");
  EXPECT_FALSE(ParseHeartbeat("[]", Scope::All(), 5).ok());
  EXPECT_FALSE(ParseHeartbeat(R"({"host": "x"})", Scope::All(), 5).ok());
}

INSTANTIATE_TEST_SUITE_P(Stores, QueryTest, BOTH_STORES);

}  // namespace
}  // namespace backspan::observatory
