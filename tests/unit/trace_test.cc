// The tracing core: span trees, limits, W3C trace context, the batching
// processor, redaction, OTEL_* configuration and the job history.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <map>
#include <thread>

#include "env/env.h"
#include "storage/sqlite.h"
#include "trace/batch_processor.h"
#include "trace/export/in_progress_reporter.h"
#include "trace/export/job_history.h"
#include "trace/export/otel_config.h"
#include "trace/export/spool.h"
#include "trace/redactor.h"
#include "trace/tracer.h"

namespace backspan::trace {
namespace {

const std::string* Str(const Attributes& attrs, const char* key) {
  const AttributeValue* v = FindAttribute(attrs, key);
  return v ? std::get_if<std::string>(v) : nullptr;
}

struct Traced {
  Resource resource;
  InMemoryExporter exporter;
  SimpleProcessor processor{&resource, &exporter};
  Tracer tracer;
  explicit Traced(TracerLimits limits = {}) : tracer(&processor, Env::Default(), limits) {}
  const SpanData& Named(const std::string& name) {
    for (const auto& s : exporter.spans())
      if (s.name == name) return s;
    throw std::runtime_error("no span " + name);
  }
};

TEST(TracerTest, ChildrenShareTheTraceAndNameTheirParent) {
  Traced t;
  {
    Span root = t.tracer.StartSpan("backup");
    Span phase = root.StartChild("scan");
    Span inner = phase.StartChild("large file");
    inner.SetAttribute("file.size", uint64_t{1} << 30);
    root.SetAttribute("backspan.snapshot.id", "abc");
  }
  ASSERT_EQ(t.exporter.spans().size(), 3u);
  const SpanData& root = t.Named("backup");
  const SpanData& scan = t.Named("scan");
  const SpanData& file = t.Named("large file");
  EXPECT_TRUE(root.is_root());
  EXPECT_EQ(scan.parent_span_id, root.span_id);
  EXPECT_EQ(file.parent_span_id, scan.span_id);
  EXPECT_EQ(file.trace_id, root.trace_id);
  EXPECT_NE(scan.span_id, file.span_id);
  EXPECT_LE(root.start_ns, scan.start_ns);
  EXPECT_GE(root.end_ns, scan.end_ns);
  EXPECT_EQ(std::get<int64_t>(*FindAttribute(file.attributes, "file.size")), int64_t{1} << 30);
  EXPECT_EQ(*Str(root.attributes, "backspan.snapshot.id"), "abc");
}

TEST(TracerTest, ErrorsSetStatusTypeAndAnExceptionEvent) {
  Traced t;
  {
    Span s = t.tracer.StartSpan("check");
    s.RecordError(Status::Corruption("pack 1234 is damaged"));
    s.SetOk();  // an error stays an error
    s.End();
    s.End();
  }
  ASSERT_EQ(t.exporter.spans().size(), 1u);
  const SpanData& s = t.exporter.spans()[0];
  EXPECT_EQ(s.status, StatusCode::kError);
  EXPECT_EQ(s.status_message, "pack 1234 is damaged");
  EXPECT_EQ(*Str(s.attributes, "error.type"), "corruption");
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].name, "exception");
}

TEST(TracerTest, LimitsBoundSpansAndEvents) {
  Traced t(TracerLimits{.max_spans = 3, .max_events_per_span = 2});
  {
    Span root = t.tracer.StartSpan("job");
    for (int i = 0; i < 10; i++) {
      Span child = root.StartChild("child");
      root.AddEvent("retry");
    }
  }
  EXPECT_EQ(t.exporter.spans().size(), 3u);
  EXPECT_EQ(t.tracer.spans_dropped(), 8u);
  const SpanData& root = t.Named("job");
  EXPECT_EQ(root.events.size(), 2u);
  EXPECT_EQ(root.dropped_events, 8u);
}

TEST(TracerTest, ANonRecordingSpanDoesNothing) {
  Span none;
  Span child = none.StartChild("x");
  child.SetAttribute("k", "v");
  child.AddEvent("e");
  EXPECT_FALSE(child.recording());
  EXPECT_FALSE(child.context().valid());
}

TEST(TracerTest, ParentFromTraceparent) {
  Traced t;
  auto parent = SpanContext::FromTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "a=b");
  ASSERT_TRUE(parent);
  { Span s = t.tracer.StartSpan("backup", *parent); }
  const SpanData& s = t.exporter.spans()[0];
  EXPECT_EQ(ToHex(s.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ToHex(s.parent_span_id), "00f067aa0ba902b7");
  EXPECT_EQ(s.trace_state, "a=b");
}

TEST(TraceContextTest, W3CTraceparentRules) {
  const std::string ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto c = SpanContext::FromTraceparent(ok);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->ToTraceparent(), ok);
  EXPECT_EQ(c->trace_flags, 1);
  for (const char* bad : {"", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"}) {
    EXPECT_FALSE(SpanContext::FromTraceparent(bad)) << bad;
  }
  // A later version may carry more fields after a dash.
  EXPECT_TRUE(SpanContext::FromTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what"));
}

// An exporter that can be made slow or failing.
class ScriptedExporter : public SpanExporter {
 public:
  std::atomic<int> delay_ms{0};
  std::atomic<bool> fail{false};
  std::atomic<size_t> received{0};
  Status Export(const Resource&, const std::vector<SpanData>& spans, int64_t) noexcept override {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    if (fail) return Status::IOError("endpoint down");
    received += spans.size();
    return Status::Ok();
  }
};

SpanData Dummy() {
  SpanData d;
  d.name = "x";
  return d;
}

TEST(BatchProcessorTest, FlushExportsEverything) {
  Resource r;
  auto exporter = std::make_unique<ScriptedExporter>();
  ScriptedExporter* e = exporter.get();
  Env* env = Env::Default();
  BatchProcessor p(&r, std::move(exporter), env, BatchOptions{.max_queue = 10000, .max_batch = 100, .schedule_delay_ns = 2'000'000'000, .export_timeout_ns = 10'000'000'000});
  for (int i = 0; i < 1234; i++) p.OnEnd(Dummy());
  ASSERT_TRUE(p.ForceFlush(env->MonotonicNanos() + 5'000'000'000).ok());
  EXPECT_EQ(e->received, 1234u);
  EXPECT_EQ(p.stats().exported, 1234u);
  EXPECT_EQ(p.stats().dropped, 0u);
}

TEST(BatchProcessorTest, ASlowEndpointNeverBlocksAndOverflowIsCounted) {
  Resource r;
  auto exporter = std::make_unique<ScriptedExporter>();
  exporter->delay_ms = 300;
  Env* env = Env::Default();
  BatchProcessor p(&r, std::move(exporter), env, BatchOptions{.max_queue = 50, .max_batch = 10, .schedule_delay_ns = 2'000'000'000, .export_timeout_ns = 10'000'000'000});
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; i++) p.OnEnd(Dummy());
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(200));  // far below one export's 300 ms
  (void)p.Shutdown(env->MonotonicNanos() + 10'000'000'000);
  BatchStats s = p.stats();
  EXPECT_EQ(s.exported + s.dropped, 1000u);
  EXPECT_GE(s.dropped, 900u);
}

TEST(BatchProcessorTest, FailedExportsAreCountedWithTheReason) {
  Resource r;
  auto exporter = std::make_unique<ScriptedExporter>();
  exporter->fail = true;
  Env* env = Env::Default();
  BatchProcessor p(&r, std::move(exporter), env);
  for (int i = 0; i < 7; i++) p.OnEnd(Dummy());
  Status st = p.ForceFlush(env->MonotonicNanos() + 5'000'000'000);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(p.stats().dropped, 7u);
  EXPECT_NE(p.stats().last_error.message().find("endpoint down"), std::string::npos);
}

// Records what an in-progress reporter sends, and can answer like an
// endpoint that lacks the extension.
class SnapshotSink final : public SpanExporter {
 public:
  Status Export(const Resource&, const std::vector<SpanData>& spans, int64_t) noexcept override {
    std::lock_guard<std::mutex> l(mu);
    calls++;
    if (not_found) return Status::NotFound("HTTP 404");
    batches.push_back(spans);
    return Status::Ok();
  }
  std::mutex mu;
  int calls = 0;
  bool not_found = false;
  std::vector<std::vector<SpanData>> batches;
};

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

TEST(InProgressReporterTest, SendsRedactedSnapshotsOfOpenSpansWithProgress) {
  Traced t;
  Span job = t.tracer.StartSpan("backup");
  job.SetAttribute("url.full", std::string("https://user:secret@example.com/x"));
  Span scan = job.StartChild("scan");
  { Span done = job.StartChild("lock"); }
  auto sink = std::make_unique<SnapshotSink>();
  SnapshotSink* s = sink.get();
  InProgressReporter reporter(&t.tracer, job.context().span_id, &t.resource, Redactor(RedactionConfig{}),
                              std::move(sink), Env::Default(),
                              InProgressOptions{.first_delay_ns = 0, .interval_ns = 20'000'000, .timeout_ns = 1'000'000'000});
  reporter.SetProgressSource([](Attributes& a) { SetAttribute(a, "backspan.progress.files_done", int64_t{42}); });
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> l(s->mu);
    for (const auto& b : s->batches)
      for (const auto& sp : b)
        if (FindAttribute(sp.attributes, "backspan.progress.files_done")) return true;
    return false;
  }));
  reporter.Stop();
  const uint64_t sent = reporter.snapshots_sent();
  EXPECT_GE(sent, 1u);
  int calls = 0;
  {
    std::lock_guard<std::mutex> l(s->mu);
    calls = s->calls;
    const auto& last = s->batches.back();
    ASSERT_EQ(last.size(), 2u);  // the job and its open phase; the ended one is not there
    for (const SpanData& sp : last) {
      EXPECT_EQ(sp.end_ns, 0);
      EXPECT_TRUE(sp.name == "backup" || sp.name == "scan") << sp.name;
      if (sp.name == "backup") {
        ASSERT_NE(Str(sp.attributes, "url.full"), nullptr);
        EXPECT_EQ(Str(sp.attributes, "url.full")->find("secret"), std::string::npos);
        EXPECT_NE(FindAttribute(sp.attributes, "backspan.progress.files_done"), nullptr);
      } else {
        EXPECT_EQ(FindAttribute(sp.attributes, "backspan.progress.files_done"), nullptr);
      }
    }
  }
  // Stopped means stopped: nothing more is sent.
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  std::lock_guard<std::mutex> l(s->mu);
  EXPECT_EQ(s->calls, calls);
}

TEST(InProgressReporterTest, AnEndpointWithoutTheExtensionIsAskedOnce) {
  Traced t;
  Span job = t.tracer.StartSpan("backup");
  auto sink = std::make_unique<SnapshotSink>();
  sink->not_found = true;
  SnapshotSink* s = sink.get();
  InProgressReporter reporter(&t.tracer, job.context().span_id, &t.resource, Redactor(RedactionConfig{}),
                              std::move(sink), Env::Default(),
                              InProgressOptions{.first_delay_ns = 0, .interval_ns = 5'000'000, .timeout_ns = 1'000'000'000});
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> l(s->mu);
    return s->calls > 0;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  reporter.Stop();
  std::lock_guard<std::mutex> l(s->mu);
  EXPECT_EQ(s->calls, 1);
  EXPECT_EQ(reporter.snapshots_sent(), 0u);
}

TEST(InProgressReporterTest, UrlSitsBesideTheTracesPath) {
  EXPECT_EQ(InProgressUrl("http://127.0.0.1:4318/v1/traces"), "http://127.0.0.1:4318/v1/traces/in-progress");
  EXPECT_EQ(InProgressUrl("http://h/v1/traces?token=x"), "http://h/v1/traces/in-progress?token=x");
}

TEST(RedactorTest, CredentialsAreAlwaysRemoved) {
  Redactor r(RedactionConfig{});
  const std::map<std::string, std::string> cases = {
      {"https://user:s3cret@host.example/path", "https://REDACTED:REDACTED@host.example/path"},
      {"https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026&sig=abc%2Bdef&sp=r",
       "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026&sig=REDACTED&sp=r"},
      {"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFy==;EndpointSuffix=core.windows.net",
       "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=REDACTED;EndpointSuffix=core.windows.net"},
      {"Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "Authorization: Bearer REDACTED"},
      {"s3://bucket/x?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA/2026", "s3://bucket/x?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED"},
      {"mail alice.smith@example.com now", "mail REDACTED now"},
      {"/var/lib/backup/data", "/var/lib/backup/data"},
      {"rg-prod", "rg-prod"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(r.ScrubText(in), want) << in;
}

TEST(RedactorTest, PathRuleKeepsHashesOrDrops) {
  RedactionConfig keep;
  Attributes a = {{"file.path", std::string("/home/alice/secret.txt")},
                  {"exception.message", std::string("open /home/alice/secret.txt: Permission denied")},
                  {"backspan.paths", StringArray{"/home/alice", "/etc"}}};
  Attributes kept = a;
  Redactor(keep).Apply(kept);
  EXPECT_EQ(*Str(kept, "file.path"), "/home/alice/secret.txt");

  RedactionConfig hash;
  hash.paths = RedactAction::kHash;
  hash.hash_key.fill(7);
  Attributes hashed = a;
  Redactor h(hash);
  h.Apply(hashed);
  EXPECT_EQ(*Str(hashed, "file.path"), h.Hash("/home/alice/secret.txt"));
  EXPECT_EQ(Str(hashed, "file.path")->rfind("hmac:", 0), 0u);
  EXPECT_EQ(*Str(hashed, "exception.message"), "open " + h.Hash("/home/alice/secret.txt") + ": Permission denied");
  auto paths = std::get<StringArray>(*FindAttribute(hashed, "backspan.paths"));
  EXPECT_EQ(paths[0], h.Hash("/home/alice"));
  // Another key hashes differently: a guess cannot be confirmed without it.
  RedactionConfig other = hash;
  other.hash_key.fill(8);
  EXPECT_NE(Redactor(other).Hash("/home/alice"), h.Hash("/home/alice"));

  RedactionConfig drop;
  drop.paths = RedactAction::kDrop;
  Attributes dropped = a;
  Redactor(drop).Apply(dropped);
  EXPECT_EQ(FindAttribute(dropped, "file.path"), nullptr);
  EXPECT_EQ(FindAttribute(dropped, "backspan.paths"), nullptr);
  EXPECT_EQ(*Str(dropped, "exception.message"), "open [path]: Permission denied");
}

TEST(RedactorTest, KeyGlobRulesComeFirst) {
  auto rule = ParseRedactionRule("azure.*=hash");
  ASSERT_TRUE(rule.ok());
  RedactionConfig c;
  c.rules = {*rule, *ParseRedactionRule("host.name=drop"), *ParseRedactionRule("file.path=keep")};
  c.paths = RedactAction::kDrop;
  Attributes a = {{"azure.resource_group.name", std::string("rg-prod")},
                  {"host.name", std::string("db1")},
                  {"file.path", std::string("/x")},
                  {"backspan.bytes.added", int64_t{5}}};
  Redactor(c).Apply(a);
  EXPECT_EQ(Str(a, "azure.resource_group.name")->rfind("hmac:", 0), 0u);
  EXPECT_EQ(FindAttribute(a, "host.name"), nullptr);
  EXPECT_EQ(*Str(a, "file.path"), "/x");
  EXPECT_EQ(std::get<int64_t>(*FindAttribute(a, "backspan.bytes.added")), 5);
  EXPECT_FALSE(ParseRedactionRule("nothing").ok());
  EXPECT_FALSE(ParseRedactionRule("a=scramble").ok());
}

TEST(RedactorTest, EventAttributesAndStatusMessagesToo) {
  SpanData d;
  d.status_message = "GET https://u:p@h/x failed";
  d.events.push_back({"retry", 1, {{"url.full", std::string("https://h/x?sig=zzz")}}});
  Redactor(RedactionConfig{}).Apply(d);
  EXPECT_EQ(d.status_message, "GET https://REDACTED:REDACTED@h/x failed");
  EXPECT_EQ(*Str(d.events[0].attributes, "url.full"), "https://h/x?sig=REDACTED");
}

Result<OtelConfig> ConfigFrom(std::map<std::string, std::string> vars) {
  return ReadOtelConfig([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(OtelConfigTest, StandardVariables) {
  auto c = ConfigFrom({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"},
                       {"OTEL_EXPORTER_OTLP_HEADERS", "lightstep-access-token=a%2Cb, x=1"},
                       {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x=2"},
                       {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                       {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
                       {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
                       {"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,service.name=from-attrs"},
                       {"OTEL_SERVICE_NAME", "nightly-backups"}});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->traces_url, "http://collector:4318/v1/traces");
  ASSERT_EQ(c->headers.size(), 2u);
  EXPECT_EQ(c->headers[0], (std::pair<std::string, std::string>{"lightstep-access-token", "a,b"}));
  EXPECT_EQ(c->headers[1], (std::pair<std::string, std::string>{"x", "2"}));
  EXPECT_EQ(c->protocol, OtlpProtocol::kJson);
  EXPECT_EQ(c->timeout_ns, 2'500'000'000);
  EXPECT_TRUE(c->gzip);
  EXPECT_EQ(c->service_name, "nightly-backups");
  EXPECT_EQ(*Str(c->resource_attributes, "deployment.environment"), "prod");
}

TEST(OtelConfigTest, TracesEndpointIsUsedAsIs) {
  auto c = ConfigFrom({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"},
                       {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://b/custom"},
                       {"OTEL_SDK_DISABLED", "TRUE"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->traces_url, "https://b/custom");
  EXPECT_TRUE(c->sdk_disabled);
  EXPECT_TRUE(ConfigFrom({})->traces_url.empty());
}

TEST(OtelConfigTest, BadValuesNameTheVariable) {
  // gRPC is not spoken: http/protobuf goes instead, and the caller says so.
  auto grpc = ConfigFrom({{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}});
  ASSERT_TRUE(grpc.ok());
  EXPECT_EQ(grpc->protocol, OtlpProtocol::kProtobuf);
  EXPECT_EQ(grpc->grpc_asked_by, "OTEL_EXPORTER_OTLP_PROTOCOL");
  EXPECT_EQ(grpc->traces_url, "http://c:4318/v1/traces");
  auto timeout = ConfigFrom({{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "soon"}});
  EXPECT_NE(timeout.status().message().find("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"), std::string::npos);
  EXPECT_FALSE(ConfigFrom({{"OTEL_EXPORTER_OTLP_HEADERS", "novalue"}}).ok());
  EXPECT_FALSE(ConfigFrom({{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"}}).ok());
}

// A history written before jobs had a status (schema 1: ok or not) opens,
// and its jobs read with the statuses they had then.
TEST(JobHistoryTest, AHistoryOfSchemaOneIsUpgraded) {
  std::string dir = std::filesystem::temp_directory_path() / ("backspan-history-v1-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto db = sql::Db::Open(dir + "/jobs.db", true, true);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec(R"(
CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY, trace_id TEXT NOT NULL, kind TEXT NOT NULL,
  start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, ok INTEGER NOT NULL, error_type TEXT,
  repository TEXT, host TEXT, snapshot_id TEXT,
  bytes_read INTEGER, bytes_added INTEGER, bytes_stored INTEGER, tags TEXT NOT NULL);
CREATE TABLE spans (
  trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT NOT NULL, name TEXT NOT NULL,
  kind INTEGER NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
  status INTEGER NOT NULL, status_message TEXT NOT NULL, attributes TEXT NOT NULL, events TEXT NOT NULL,
  dropped_events INTEGER NOT NULL, PRIMARY KEY (trace_id, span_id));
INSERT INTO jobs VALUES ('01', 'aa', 'backup', 1, 2, 1, '', '', 'db1', '', 0, 0, 0, '[]');
INSERT INTO jobs VALUES ('02', 'bb', 'backup', 3, 4, 0, 'interrupted', '', 'db1', '', 0, 0, 0, '[]');
INSERT INTO jobs VALUES ('03', 'cc', 'check', 5, 6, 0, 'corruption', '', 'db1', '', 0, 0, 0, '[]');
PRAGMA user_version = 1;)").ok());
  }
  auto h = JobHistory::Open(dir);
  ASSERT_TRUE(h.ok()) << h.status().message();
  auto all = (*h)->ListJobs({});
  ASSERT_TRUE(all.ok()) << all.status().message();
  std::vector<std::string> statuses;
  for (const JobRecord& j : *all) statuses.push_back(j.status);
  EXPECT_EQ(statuses, (std::vector<std::string>{"failed", "interrupted", "ok"}));
  JobFilter failed;
  failed.status = "error";
  EXPECT_EQ((*h)->ListJobs(failed)->size(), 2u);
  std::filesystem::remove_all(dir);
}

TEST(JobHistoryTest, StoresListsAndLoadsJobs) {
  std::string dir = std::filesystem::temp_directory_path() / ("backspan-history-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  auto h = JobHistory::Open(dir + "/nested");
  ASSERT_TRUE(h.ok()) << h.status().message();
  Resource r;
  SetAttribute(r.attributes, "host.name", std::string("db1"));
  InMemoryExporter mem;
  SimpleProcessor proc(&r, &mem);
  Tracer tracer(&proc, Env::Default());
  {
    Span job = tracer.StartSpan("backup");
    job.SetAttribute("backspan.job.kind", "backup");
    job.SetAttribute("backspan.tags", StringArray{"env=prod"});
    job.SetAttribute("backspan.bytes.added", 42);
    job.SetAttribute("backspan.snapshot.id", "s1");
    Span phase = job.StartChild("scan");
    phase.AddEvent("backspan.file_error", {{"file.path", std::string("/x")}});
  }
  {
    Span job = tracer.StartSpan("check");
    job.SetAttribute("backspan.job.kind", "check");
    job.RecordError(Status::Corruption("bad pack"));
  }
  ASSERT_TRUE((*h)->Store(r, mem.spans(), Env::Default()->NowUnixNanos()).ok());

  auto all = (*h)->ListJobs({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].kind, "check");  // newest first
  EXPECT_EQ((*all)[0].status, "failed");
  EXPECT_EQ((*all)[0].error_type, "corruption");
  const JobRecord& backup = (*all)[1];
  EXPECT_EQ(backup.host, "db1");
  EXPECT_EQ(backup.bytes_added, 42);
  EXPECT_EQ(backup.tags, std::vector<std::string>{"env=prod"});
  JobFilter by_tag, by_status;
  by_tag.tags = {"env=prod"};
  by_status.status = "error";
  EXPECT_EQ((*h)->ListJobs(by_tag)->size(), 1u);
  EXPECT_EQ((*h)->ListJobs(by_status)->size(), 1u);

  std::vector<JobRecord> jobs;
  auto spans = (*h)->LoadTrace(backup.job_id.substr(0, 6), &jobs);
  ASSERT_TRUE(spans.ok()) << spans.status().message();
  ASSERT_EQ(spans->size(), 2u);
  EXPECT_EQ(jobs.size(), 1u);
  bool found_event = false;
  for (const auto& s : *spans)
    for (const auto& e : s.events) found_event = found_event || *Str(e.attributes, "file.path") == "/x";
  EXPECT_TRUE(found_event);
  EXPECT_EQ((*h)->LoadTrace("0123456789", nullptr).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ((*h)->LoadTrace("xyz", nullptr).status().code(), ErrorCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

// The agent's spool: entries come back in the order written; past the
// limit the oldest go first and are counted; one bigger than the whole
// limit is refused.
TEST(SpoolTest, KeepsOrderDropsTheOldestPastItsLimitAndCountsThem) {
  const std::string dir = std::filesystem::temp_directory_path() / ("backspan-spool-test-" + std::to_string(getpid()));
  Spool spool(Env::Default(), dir + "/spool", 1000);
  for (int i = 0; i < 5; ++i) {
    std::string body(300, static_cast<char>('a' + i));
    ASSERT_TRUE(spool.Append(i % 2 ? kSpoolHeartbeat : kSpoolTraces, AsBytes(body)).ok());
  }
  auto entries = spool.List();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ(spool.dropped(), 2);
  std::string firsts;
  for (const auto& e : *entries) firsts += static_cast<char>(spool.Read(e)->at(0));
  EXPECT_EQ(firsts, "cde");
  EXPECT_EQ((*entries)[0].kind, kSpoolTraces);
  EXPECT_EQ((*entries)[1].kind, kSpoolHeartbeat);
  ASSERT_TRUE(spool.Remove((*entries)[0]).ok());
  EXPECT_EQ(spool.List()->size(), 2u);
  const std::string huge(1001, 'x');
  EXPECT_EQ(spool.Append(kSpoolTraces, AsBytes(huge)).code(), ErrorCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace backspan::trace
