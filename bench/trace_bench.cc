// What tracing costs one job, measured directly: a backup-shaped trace (the
// root, its 11 phases, a large-file span, file events and the root's ~35
// attributes) through the same pipeline a job uses: redaction, the SQLite
// job history, and, when BACKSPAN_BENCH_OTLP_ENDPOINT names a receiver, the
// batching OTLP/HTTP exporter, flushed at the end as a job's exit does.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "env/env.h"
#include "trace/batch_processor.h"
#include "trace/export/job_history.h"
#include "trace/export/otel_config.h"
#include "trace/export/otlp_http_exporter.h"
#include "trace/redactor.h"
#include "trace/tracer.h"

namespace backspan::trace {
namespace {

const char* const kPhases[] = {"open repository", "lock", "load index", "find parent", "scan", "process files",
                               "write trees", "write index", "save snapshot", "unlock"};

void OneJob(const std::string& state_dir, const char* endpoint, OtlpProtocol protocol) {
  Env* env = Env::Default();
  Resource resource;
  SetAttribute(resource.attributes, "service.name", std::string("backspan"));
  SetAttribute(resource.attributes, "host.name", std::string("bench-host"));
  SetAttribute(resource.attributes, "azure.resource_group.name", std::string("rg-prod"));
  auto fanout = std::make_unique<MultiProcessor>();
  fanout->Add(std::make_unique<JobHistoryProcessor>(&resource, state_dir, env));
  if (endpoint) {
    OtlpExporterOptions o;
    o.url = TracesUrlFromBase(endpoint);
    o.protocol = protocol;
    o.scope_version = "bench";
    fanout->Add(std::make_unique<BatchProcessor>(&resource, std::make_unique<OtlpHttpExporter>(o, env), env));
  }
  RedactionProcessor processor(Redactor(RedactionConfig{}), std::move(fanout));
  Tracer tracer(&processor, env);
  {
    Span job = tracer.StartSpan("backup");
    job.SetAttribute("backspan.job.kind", "backup");
    job.SetAttribute("backspan.repository", "/srv/backup/repo");
    job.SetAttribute("backspan.tags", StringArray{"env=prod", "azure.resource_group.name=rg-prod"});
    for (const char* name : kPhases) {
      Span phase = job.StartChild(name);
      if (std::string(name) == "process files") {
        Span large = phase.StartChild("large file");
        large.SetAttribute("file.path", "/srv/data/db/dump-0001.bin");
        large.SetAttribute("file.size", uint64_t{100} << 20);
        for (int i = 0; i < 20; i++)
          phase.AddEvent("backspan.file_error", {{"file.path", std::string("/srv/data/file-") + std::to_string(i)},
                                                 {"backspan.message", std::string("Permission denied")}});
      }
    }
    for (int i = 0; i < 30; i++) job.SetAttribute("backspan.figure." + std::to_string(i), uint64_t(i) * 12345);
    job.SetOk();
  }
  (void)processor.Shutdown(env->MonotonicNanos() + 10'000'000'000);
}

void BM_JobTrace(benchmark::State& state, OtlpProtocol protocol, bool with_export) {
  const char* endpoint = with_export ? std::getenv("BACKSPAN_BENCH_OTLP_ENDPOINT") : nullptr;
  if (with_export && !endpoint) {
    state.SkipWithError("set BACKSPAN_BENCH_OTLP_ENDPOINT to measure export");
    return;
  }
  std::string dir = std::filesystem::temp_directory_path() / ("backspan-trace-bench-" + std::to_string(getpid()));
  for (auto _ : state) OneJob(dir, endpoint, protocol);
  std::filesystem::remove_all(dir);
}

BENCHMARK_CAPTURE(BM_JobTrace, history_only, OtlpProtocol::kProtobuf, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_JobTrace, history_and_otlp_protobuf, OtlpProtocol::kProtobuf, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_JobTrace, history_and_otlp_json, OtlpProtocol::kJson, true)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace backspan::trace

BENCHMARK_MAIN();
