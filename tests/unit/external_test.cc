// Other systems' backups as spans: the parsers' edge cases, and the merging
// store path (revisions counted once, in any order).
#include <gtest/gtest.h>

#include "env/env.h"
#include "observatory/ingest/azure_events.h"
#include "observatory/ingest/external_span_writer.h"
#include "observatory/ingest/job_events.h"
#include "observatory/store/sqlite/sqlite_span_store.h"
#include "test_util.h"
#include "trace/exporter.h"
#include "trace/tracer.h"
#include "util/json_number.h"
#include "wrap/tool_output.h"

namespace backspan::observatory {
namespace {

const int64_t kNow = 1'795'500'000'000'000'000;  // 2026-11-24

std::string Alert(const std::string& condition, const std::string& extra = "") {
  return R"({"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {
    "ALERTID": "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/a1", "alertRule": "r",
    "Severity": "Sev1", "monitorCondition": ")" + condition + R"(", "firedDateTime": "2026-11-20T02:00:00Z",
    "alertTargetIDs": ["/subscriptions/s/resourceGroups/RG-Prod/providers/x/y/z"])" + extra + "}}}";
}

TEST(ExternalParseTest, TimesAndResourceGroups) {
  EXPECT_EQ(ParseExternalTime("2019-03-22T13:58:24.3713213Z"), 1553263104371321300);
  EXPECT_EQ(ParseExternalTime("2019-03-22T13:58:24"), 1553263104000000000);  // no zone: UTC
  EXPECT_EQ(ParseExternalTime("2019-03-22T14:58:24+01:00"), 1553263104000000000);
  EXPECT_FALSE(ParseExternalTime("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(ParseExternalTime("2026-13-40T00:00:00Z"));
  EXPECT_FALSE(ParseExternalTime("3/22/2019 1:36:31 PM"));
  EXPECT_FALSE(PlausibleTime(kNow + 2 * 86'400'000'000'000, kNow));
  EXPECT_TRUE(PlausibleTime(kNow - 86'400'000'000'000, kNow));
  EXPECT_EQ(ResourceGroupOf("/subscriptions/s/resourceGroups/RG-Prod/providers/x"), "rg-prod");
  EXPECT_EQ(ResourceGroupOf("/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG-PROD"), "rg-prod");
  EXPECT_EQ(ResourceGroupOf("/subscriptions/s"), "");
  EXPECT_EQ(DerivedTraceId("x", "ABC"), DerivedTraceId("x", "abc"));
  EXPECT_NE(DerivedTraceId("x", "abc"), DerivedTraceId("y", "abc"));
}

TEST(ExternalParseTest, AlertEssentialsAreMatchedWithoutCase) {
  auto fired = AzureAlertSpan(Alert("Fired"), kNow);
  ASSERT_TRUE(fired.ok()) << fired.status().message();
  EXPECT_EQ(fired->span.status, trace::StatusCode::kError);
  EXPECT_EQ(fired->rank, 1);
  EXPECT_EQ(trace::AttributeText(*trace::FindAttribute(fired->span.attributes, "azure.resource_group.name")), "rg-prod");
  auto resolved = AzureAlertSpan(Alert("Resolved"), kNow);
  EXPECT_FALSE(resolved.ok());
  EXPECT_NE(resolved.status().message().find("resolvedDateTime"), std::string::npos);
  resolved = AzureAlertSpan(Alert("Resolved", R"(, "resolvedDateTime": "2026-11-20T03:00:00Z")"), kNow);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->span.end_ns - resolved->span.start_ns, 3600'000'000'000);
  EXPECT_EQ(resolved->rank, 2);
}

TEST(ExternalParseTest, JobEventsNeedAnIdAType) {
  auto parsed = JobEventSpans(R"([{"job_id": "a", "type": "started"}, {"type": "started"}, {"job_id": "b", "type": "x"}])", kNow);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->spans.size(), 1u);
  ASSERT_EQ(parsed->rejected.size(), 2u);
  EXPECT_NE(parsed->rejected[0].find("event 2: job_id"), std::string::npos);
  EXPECT_FALSE(JobEventSpans("{nope", kNow).ok());
}

TEST(ExternalParseTest, HugeNumbersAreDroppedNotCast) {
  // Found by fuzz_azure_backup_jobs: 2e66 MB cast to int64 bytes was undefined.
  auto parsed = AzureBackupJobSpans(R"([{"JobUniqueId": "j1", "JobStatus": "Completed",
    "JobStartDateTime": "2026-11-20T02:00:00Z", "JobDurationInSecs": 60, "DataTransferredInMB": 2e66}])", kNow);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->spans.size(), 1u);
  const trace::Attributes& attrs = parsed->spans[0].span.attributes;
  EXPECT_NE(trace::FindAttribute(attrs, "azure.backup.data_transferred_mb"), nullptr);
  EXPECT_EQ(trace::FindAttribute(attrs, "backspan.bytes.added"), nullptr);
  EXPECT_EQ(DoubleToInt64(9.3e18), std::nullopt);
  EXPECT_EQ(DoubleToInt64(-9.3e18), std::nullopt);
  EXPECT_EQ(DoubleToInt64(-1.5), -1);
}

TEST(ExternalParseTest, AColumnNameThatIsNotTextIsSkippedNotThrown) {
  // Found by fuzz_azure_backup_jobs: a Log Analytics column whose name was
  // an object threw out of the parser (a 500, or a crash) instead of
  // leaving that column unread.
  auto parsed = AzureBackupJobSpans(R"({"tables": [{"name": "PrimaryResult",
    "columns": [{"name": "JobUniqueId"}, {"name": {"nested": 1}}, {"name": "JobStatus"}, {"name": "JobStartDateTime"}],
    "rows": [["j1", "ignored", "Completed", "2026-11-20T02:00:00Z"]]}]})", kNow);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->spans.size(), 1u);
  nlohmann::json with_number = {{"snapshot", 5}, {"target", "dir"}};
  EXPECT_EQ(StringField(with_number, "snapshot", "latest"), std::nullopt);
  EXPECT_EQ(StringField(with_number, "target", ""), "dir");
  EXPECT_EQ(StringField(with_number, "absent", "latest"), "latest");
}

class ExternalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.dir = dir_.path();
    o.sync_full = false;
    auto s = SqliteSpanStore::Open(o, Env::Default());
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    ingest_ = std::make_unique<ExternalSpanWriter>(store_.get());
  }
  int64_t Count(const std::string& status) {
    auto counts = store_->JobCounts(Scope::All());
    int64_t n = 0;
    if (counts.ok())
      for (const auto& c : *counts) n += c.status == status ? c.count : 0;
    return n;
  }
  ExternalOutcome Store(const std::string& body) {
    auto span = AzureAlertSpan(body, kNow);
    EXPECT_TRUE(span.ok());
    auto out = ingest_->Store({*span});
    EXPECT_TRUE(out.ok());
    return out.ok() ? *out : ExternalOutcome{};
  }

  testing::TempDir dir_;
  std::unique_ptr<SpanStore> store_;
  std::unique_ptr<ExternalSpanWriter> ingest_;
};

TEST_F(ExternalStoreTest, ARevisedJobIsCountedOnce) {
  const std::string resolved = Alert("Resolved", R"(, "resolvedDateTime": "2026-11-20T03:00:00Z")");
  EXPECT_EQ(Store(Alert("Fired")).stored, 1);
  EXPECT_EQ(Store(resolved).stored, 1);
  EXPECT_EQ(Store(Alert("Fired")).unchanged, 1);  // a late retry does not reopen it
  EXPECT_EQ(Store(resolved).unchanged, 1);
  EXPECT_EQ(Count("failed"), 1);
  auto page = store_->ListJobs(JobQuery{}, Scope{});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->jobs.size(), 1u);
  EXPECT_EQ(page->jobs[0].end_ns - page->jobs[0].start_ns, 3600'000'000'000);
  // The counts survive a restart (the revision was written with its commit).
  ingest_.reset();
  store_.reset();
  SetUp();
  EXPECT_EQ(Count("failed"), 1);
}

}  // namespace
}  // namespace backspan::observatory

namespace backspan::wrap {
namespace {

TEST(WrapIdentifyTest, ToolsSubcommandsAndStructuredOutput) {
  auto c = Identify({"/usr/bin/restic", "-r", "/srv/repo", "--password-file", "pw", "backup", "/home", "--json"});
  EXPECT_EQ(c.tool, "restic");
  EXPECT_EQ(c.kind, "backup");
  EXPECT_TRUE(c.structured);
  c = Identify({"borg", "--remote-path", "borg1", "create", "repo::a", "/etc"});
  EXPECT_EQ(c.kind, "backup");
  EXPECT_FALSE(c.structured);  // no --log-json: exit status and stderr only
  c = Identify({"borg", "prune", "--log-json", "repo"});
  EXPECT_EQ(c.kind, "prune");
  EXPECT_TRUE(c.structured);
  c = Identify({"pg_dump", "db"});
  EXPECT_EQ(c.tool, "pg_dump");
  EXPECT_EQ(c.kind, "command");
}

// Found by fuzzing (fuzz_wrap_output): a borg line whose "finished" was
// not a boolean threw out of the parser and killed backspan wrap; fields of
// unexpected types, and numbers beyond 64 bits, are read as absent.
TEST(WrapOutputTest, FieldsOfOtherTypesDoNotStopTheParser) {
  trace::InMemoryExporter exporter;
  const trace::Resource resource;
  trace::SimpleProcessor processor(&resource, &exporter);
  trace::Tracer tracer(&processor, Env::Default());
  trace::Span root = tracer.StartSpan("wrap");
  auto output = MakeToolOutput(Identify({"borg", "create", "--log-json", "r::a", "/srv"}), root);
  output->OnStderr(R"({"type": "archive_progress", "finished": 0, "nfiles": "many", "original_size": 1e300})");
  output->OnStderr(R"({"type": "archive_progress", "finished": "yes", "nfiles": -5})");
  output->OnStderr(R"({"type": "progress_percent", "operation": [1], "finished": null})");
  output->OnStdout(R"({"archive": {"stats": {"nfiles": 18446744073709551615}}})");
  trace::Attributes progress;
  output->Progress(progress);
  output->Finish(0);
  output.reset();
  root.End();
  EXPECT_FALSE(exporter.spans().empty());
}

}  // namespace
}  // namespace backspan::wrap
