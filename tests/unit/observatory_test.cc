// The observatory's decoder and store below the HTTP layer: what a request
// becomes, and that the aggregates (trends, sources, counters), which the
// writer keeps in memory and writes in batches, count every job exactly once,
// also after a crash between a commit and their write.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "env/env.h"
#include "observatory/ingest/otlp_decoder.h"
#include "observatory/store/sqlite/sqlite_span_store.h"
#include "storage/sqlite.h"
#include "test_stores.h"
#include "test_util.h"
#include "trace/export/job_history.h"
#include "trace/export/otlp_encoding.h"
#include "util/bounded_json.h"

namespace backspan::observatory {
namespace {

constexpr int64_t kHour = 3'600'000'000'000;

int64_t Now() { return Env::Default()->NowUnixNanos(); }

std::string Hex(uint64_t v, int digits) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0 && v; --i, v >>= 4) out[static_cast<size_t>(i)] = kDigits[v & 15];
  return out;
}

struct JobSpec {
  uint64_t n = 1;  // makes the ids
  int64_t start_ns = 0, end_ns = 0;
  std::string host = "db1", rg = "rg-a";
  int exit_code = 0;
  bool error = false;
};

// An OTLP/JSON request with each job's root span and one phase span.
std::string Request(const std::vector<JobSpec>& jobs) {
  std::string spans;
  for (const JobSpec& j : jobs) {
    const std::string trace = "\"traceId\":\"" + Hex(j.n, 32) + "\"";
    const std::string root_id = Hex(j.n, 16);
    const std::string times = ",\"startTimeUnixNano\":\"" + std::to_string(j.start_ns) + "\",\"endTimeUnixNano\":\"" +
                              std::to_string(j.end_ns) + "\"";
    if (!spans.empty()) spans += ",";
    spans += "{" + trace + ",\"spanId\":\"" + root_id + "\",\"name\":\"backup\"" + times +
             ",\"attributes\":[{\"key\":\"backspan.job.kind\",\"value\":{\"stringValue\":\"backup\"}},"
             "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"" + j.host + "\"}},"
             "{\"key\":\"azure.resource_group.name\",\"value\":{\"stringValue\":\"" + j.rg + "\"}},"
             "{\"key\":\"process.exit.code\",\"value\":{\"intValue\":\"" + std::to_string(j.exit_code) + "\"}}]" +
             (j.error ? ",\"status\":{\"code\":2,\"message\":\"disk full\"}" : "") + "},";
    spans += "{" + trace + ",\"spanId\":\"" + Hex(j.n + (1ull << 40), 16) + "\",\"parentSpanId\":\"" + root_id +
             "\",\"name\":\"scan\"" + times + "}";
  }
  return "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":"
         "\"backspan\"}}]},\"scopeSpans\":[{\"spans\":[" + spans + "]}]}]}";
}

IngestBatch Decode(const std::vector<JobSpec>& jobs, bool in_progress = false) {
  auto batch = DecodeTraceRequest(Request(jobs), WireFormat::kJson, in_progress);
  EXPECT_TRUE(batch.ok()) << batch.status().message();
  return batch.ok() ? std::move(*batch) : IngestBatch{};
}

TEST(OtlpDecoderTest, RootSpansBecomeJobsAndTracesBecomeChunks) {
  const int64_t t = Now();
  IngestBatch b = Decode({{.n = 1, .start_ns = t, .end_ns = t + 5, .exit_code = 3},
                          {.n = 2, .start_ns = t, .end_ns = t + 9, .host = "db2", .error = true}});
  EXPECT_EQ(b.accepted, 4);
  EXPECT_EQ(b.rejected, 0);
  ASSERT_EQ(b.chunks.size(), 2u);  // one per trace
  for (const TraceChunk& c : b.chunks) EXPECT_EQ(c.span_count, 2);
  ASSERT_EQ(b.jobs.size(), 2u);
  const JobRecord& partial = b.jobs[0].host == "db1" ? b.jobs[0] : b.jobs[1];
  const JobRecord& failed = b.jobs[0].host == "db1" ? b.jobs[1] : b.jobs[0];
  EXPECT_EQ(partial.status, semconv::kJobStatusPartial);  // exit 3: a snapshot with unreadable files
  EXPECT_EQ(partial.kind, "backup");
  EXPECT_EQ(partial.resource_group, "rg-a");
  EXPECT_FALSE(partial.source_key.empty());
  EXPECT_EQ(failed.status, semconv::kJobStatusFailed);
  EXPECT_EQ(failed.error_message, "disk full");
}

TEST(OtlpDecoderTest, BadInputIsRejectedWithAReason) {
  auto truncated = DecodeTraceRequest(std::string("\x0a\xff\x01", 3), WireFormat::kProtobuf, false);
  EXPECT_EQ(truncated.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(DecodeTraceRequest("{not json", WireFormat::kJson, false).status().code(), ErrorCode::kInvalidArgument);
  // End before start: that span is rejected, the rest of the request stays.
  const int64_t t = Now();
  auto b = DecodeTraceRequest(Request({{.n = 7, .start_ns = t, .end_ns = t - 1}}), WireFormat::kJson, false);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->rejected, 2);
  EXPECT_NE(b->rejection.find("end"), std::string::npos) << b->rejection;
  // An all-zero trace id.
  std::string zero = Request({{.n = 0, .start_ns = t, .end_ns = t}});
  auto z = DecodeTraceRequest(zero, WireFormat::kJson, false);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->accepted, 0);
  EXPECT_EQ(z->rejected, 2);
}

// `backspan jobs` and the observatory summarise a root span with one
// function, so a job has the same status in both (an exit-3 backup was
// "error" in one and "partial" in the other).
TEST(JobSummaryTest, TheJobHistoryAndTheObservatoryAgreeOnEveryStatus) {
  struct Case {
    int64_t exit_code;
    bool error;
    std::string error_type, job_status, want;
  };
  const std::vector<Case> cases = {
      {0, false, "", "", semconv::kJobStatusOk},
      {3, true, "io_error", "", semconv::kJobStatusPartial},
      {1, true, "partial_failure", "partial", semconv::kJobStatusPartial},  // borg's warning, wrapped
      {1, true, "wrong_password", "", semconv::kJobStatusFailed},
      {130, true, "interrupted", "", semconv::kJobStatusInterrupted},
  };
  testing::TempDir dir;
  auto history = trace::JobHistory::Open(dir.path());
  ASSERT_TRUE(history.ok()) << history.status().message();
  trace::Resource resource;
  trace::SetAttribute(resource.attributes, semconv::kServiceName, std::string("backspan"));
  const int64_t t = Now();
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    trace::SpanData root;
    root.trace_id[0] = static_cast<uint8_t>(i + 1);
    root.span_id[0] = static_cast<uint8_t>(i + 1);
    root.name = "backup";
    root.start_ns = t + static_cast<int64_t>(i);
    root.end_ns = root.start_ns + 1000;
    trace::SetAttribute(root.attributes, semconv::kJobKind, std::string("backup"));
    trace::SetAttribute(root.attributes, semconv::kProcessExitCode, c.exit_code);
    if (!c.error_type.empty()) trace::SetAttribute(root.attributes, semconv::kErrorType, c.error_type);
    if (!c.job_status.empty()) trace::SetAttribute(root.attributes, semconv::kJobStatus, c.job_status);
    if (c.error) root.status = trace::StatusCode::kError;
    ASSERT_TRUE((*history)->Store(resource, {root}, t).ok());
    auto decoded = DecodeTraceRequest(trace::EncodeOtlpProtobuf(resource, "test", {root}), WireFormat::kProtobuf, false);
    ASSERT_TRUE(decoded.ok() && decoded->jobs.size() == 1);
    EXPECT_EQ(decoded->jobs[0].status, c.want) << "exit " << c.exit_code;
    trace::JobFilter newest;
    newest.limit = 1;
    auto listed = (*history)->ListJobs(newest);
    ASSERT_TRUE(listed.ok() && listed->size() == 1);
    EXPECT_EQ((*listed)[0].status, c.want) << "exit " << c.exit_code;
  }
}

// The store's contract, on each store.
class SpanStoreTest : public ::testing::TestWithParam<testing::StoreKind> {
 protected:
  // A new store the first time, the same one after.
  std::unique_ptr<SpanStore> Open() {
    if (opened_) return testing::ReopenTestStore();
    opened_ = true;
    StoreOptions o;
    o.sync_full = false;
    return testing::OpenTestStore(GetParam(), o, dir_.path());
  }
  bool opened_ = false;
  void Write(SpanStore& store, const std::vector<JobSpec>& jobs, bool in_progress = false) {
    Status st = store.Write(Decode(jobs, in_progress), Scope::All()).status();
    ASSERT_TRUE(st.ok()) << st.message();
  }
  // Jobs counted by each aggregate: sources, counters and the hourly trend.
  struct Counted {
    int64_t sources = 0, counters = 0, trend = 0;
  };
  Counted Count(SpanStore& store) {
    Counted c;
    auto sources = store.Sources(Scope{});
    EXPECT_TRUE(sources.ok());
    if (sources.ok())
      for (const auto& s : *sources) c.sources += s.jobs_total;
    auto counts = store.JobCounts(Scope::All());
    EXPECT_TRUE(counts.ok());
    if (counts.ok())
      for (const auto& n : *counts) c.counters += n.count;
    TrendQuery q;
    q.metric = TrendMetric::kJobCount;
    q.since_ns = t0_ - 2 * kHour;
    q.until_ns = t0_ + 2 * kHour;
    auto trend = store.GetTrend(q, Scope{});
    EXPECT_TRUE(trend.ok());
    if (trend.ok())
      for (const auto& s : trend->series)
        for (int64_t n : s.jobs) c.trend += n;
    return c;
  }
  std::vector<JobSpec> Jobs(uint64_t first, int count) {
    std::vector<JobSpec> out;
    for (int i = 0; i < count; ++i) {
      const uint64_t n = first + static_cast<uint64_t>(i);
      out.push_back({.n = n, .start_ns = t0_ + static_cast<int64_t>(n) * 1'000'000'000,
                     .end_ns = t0_ + static_cast<int64_t>(n) * 1'000'000'000 + 60'000'000'000,
                     .host = "host-" + std::to_string(n % 3)});
    }
    return out;
  }

  testing::TempDir dir_;
  const int64_t t0_ = Now() - kHour;
};

void ExpectCounted(const auto& c, int64_t jobs) {
  EXPECT_EQ(c.sources, jobs);
  EXPECT_EQ(c.counters, jobs);
  EXPECT_EQ(c.trend, jobs);
}

TEST_P(SpanStoreTest, EveryJobIsCountedOnceAndDuplicatesNever) {
  auto store = Open();
  Write(*store, Jobs(1, 10));
  Write(*store, Jobs(1, 10));  // delivered again
  Write(*store, Jobs(11, 5));
  ExpectCounted(Count(*store), 15);
  auto page = store->ListJobs(JobQuery{}, Scope{});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->jobs.size(), 15u);
}

TEST_P(SpanStoreTest, ARunningJobIsCountedWhenItFinishes) {
  auto store = Open();
  std::vector<JobSpec> running = Jobs(1, 1);
  running[0].end_ns = 0;
  Write(*store, running, true);
  Write(*store, Jobs(2, 3));  // newer jobs: the watermark passes the running one
  ExpectCounted(Count(*store), 3);
  Write(*store, Jobs(1, 1));  // it finishes
  ExpectCounted(Count(*store), 4);
  store.reset();
  ExpectCounted(Count(*Open()), 4);
}

TEST_P(SpanStoreTest, JobsStoredAfterTheAggregatesWereWrittenCountAfterACrash) {
  if (GetParam() != testing::StoreKind::kSqlite)
    GTEST_SKIP() << "PostgreSQL writes the aggregates in the jobs' own transaction: there is no window to crash in";
  {
    auto store = Open();
    Write(*store, Jobs(1, 20));
  }
  // As if the process died after committing the jobs but before writing
  // their aggregates: none written, the watermark at 0.
  {
    auto db = sql::Db::Open(dir_.Sub("observatory.db"), true, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("DELETE FROM rollups; DELETE FROM sources; DELETE FROM job_counts;").ok());
    ASSERT_TRUE(db->Exec("UPDATE meta SET value = 0 WHERE key = 'aggregates_through'").ok());
  }
  {
    auto store = Open();
    Write(*store, Jobs(1, 10));  // nothing new: already stored
  }
  auto store = Open();  // a second restart must not count anything twice
  ExpectCounted(Count(*store), 20);
}

// The write rule, below the HTTP layer: a scoped writer's span that would
// replace a stored span of another scope is left out and reported; the
// stored one stays; an unrestricted writer may replace anything.
TEST_P(SpanStoreTest, AWriteMayReplaceOnlyWhatItsScopeAllows) {
  auto store = Open();
  JobSpec victim = Jobs(1, 1)[0];
  victim.rg = "rg-b";
  Write(*store, {victim});
  JobSpec forged = victim;
  forged.rg = "rg-a";
  const Scope agent_a = Scope::Of({"rg-a"}, {});
  auto out = store->Write(Decode({forged}), agent_a);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(out->rejected, 2);  // the root span and its phase
  EXPECT_NE(out->rejection.find("outside the scopes the caller may write"), std::string::npos);
  auto in_b = store->ListJobs({}, Scope::Of({"rg-b"}, {}));
  ASSERT_TRUE(in_b.ok());
  ASSERT_EQ(in_b->jobs.size(), 1u);
  EXPECT_EQ(in_b->jobs[0].resource_group, "rg-b");
  auto in_a = store->ListJobs({}, agent_a);
  ASSERT_TRUE(in_a.ok());
  EXPECT_TRUE(in_a->jobs.empty());
  // Its own new job, in the same batch as a takeover, is stored.
  JobSpec own = Jobs(2, 1)[0];
  own.rg = "rg-a";
  out = store->Write(Decode({forged, own}), agent_a);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->rejected, 2);
  in_a = store->ListJobs({}, agent_a);
  ASSERT_TRUE(in_a.ok());
  EXPECT_EQ(in_a->jobs.size(), 1u);
  // Everything is in an unrestricted writer's scope.
  out = store->Write(Decode({forged}), Scope::All());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->rejected, 0);
}

// Two replicas on one PostgreSQL database, written at once: jobs delivered
// through both, running jobs that end through the other one, duplicates.
// Every job is counted exactly once, wherever its versions went.
TEST_P(SpanStoreTest, ReplicasSharingAStoreCountEveryJobOnce) {
  if (GetParam() != testing::StoreKind::kPostgres) GTEST_SKIP() << "one process opens a SQLite store";
  auto first = Open();
  auto second = Open();  // the same database
  ASSERT_TRUE(first && second);
  SpanStore* replicas[] = {first.get(), second.get()};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      for (int round = 0; round < 10; ++round) {
        const uint64_t base = 1 + static_cast<uint64_t>(round) * 20;
        std::vector<JobSpec> running = Jobs(base, 20);
        for (auto& j : running) j.end_ns = 0;
        // Every thread sends every job of the round: half as running first.
        if (t % 2 == 0) Write(*replicas[t / 2], running, true);
        Write(*replicas[(t + round) % 2], Jobs(base, 20));
      }
    });
  for (auto& w : writers) w.join();
  ExpectCounted(Count(*first), 200);
  ExpectCounted(Count(*second), 200);
  JobQuery all;
  all.limit = 1000;
  auto page = second->ListJobs(all, Scope{});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->jobs.size(), 200u);
}

INSTANTIATE_TEST_SUITE_P(Stores, SpanStoreTest, BOTH_STORES);

TEST(BoundedJsonTest, DepthAndTreeSizeAreBounded) {
  std::string why;
  EXPECT_FALSE(ParseBoundedJson(R"({"a": [1, 2, {"b": null}]})", {}, &why).is_discarded());
  EXPECT_TRUE(why.empty());
  EXPECT_TRUE(ParseBoundedJson(std::string(100, '[') + std::string(100, ']'), {}, &why).is_discarded());
  EXPECT_NE(why.find("nested deeper than 64"), std::string::npos);
  why.clear();
  std::string tiny = "[";
  for (int i = 0; i < 100000; ++i) tiny += "[],";
  tiny += "[]]";
  EXPECT_FALSE(ParseBoundedJson(tiny, {}, &why).is_discarded());  // ~21 times its size: within the default
  EXPECT_TRUE(ParseBoundedJson(tiny, {.max_depth = 64, .max_memory_factor = 8}, &why).is_discarded());
  EXPECT_NE(why.find("bytes of memory"), std::string::npos);
  why.clear();
  EXPECT_TRUE(ParseBoundedJson("{not json", {}, &why).is_discarded());
  EXPECT_TRUE(why.empty());  // not a bound: just not JSON
}

TEST(BoundedJsonTest, TreeSizeIsMeasuredWithoutParsing) {
  // A long string costs about its length; many tiny values cost many times theirs.
  const std::string long_string = "{\"a\": \"" + std::string(1 << 20, 'x') + "\"}";
  ASSERT_TRUE(JsonTreeSize(long_string).has_value());
  EXPECT_LT(*JsonTreeSize(long_string), 2 * long_string.size());
  std::string tiny = "[";
  for (int i = 0; i < 1000; ++i) tiny += "[],";
  tiny += "[]]";
  EXPECT_GT(*JsonTreeSize(tiny), 10 * tiny.size());
  // JSON lines: the sum of its lines; a line that is not JSON: nothing.
  const std::string one = R"({"job_id": "a", "type": "started"})";
  EXPECT_EQ(JsonTreeSize(one + "\n\n" + one + "\r\n"), 2 * *JsonTreeSize(one));
  EXPECT_FALSE(JsonTreeSize(one + "\n{not json").has_value());
  EXPECT_FALSE(JsonTreeSize(std::string(100, '[') + std::string(100, ']')).has_value());
}

}  // namespace
}  // namespace backspan::observatory
