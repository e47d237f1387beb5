// How long the observatory takes to judge 10,000 sources against the
// schedules 100 agents declare (100 policies each, cron expressions in
// several time zones): the store's read of sources and agents, and the
// states computed from them, as GET /api/v1/freshness and the notifier's
// check do it. Prints JSON: p50, p95 and max in milliseconds.
//
//   freshness_bench [--sources 10000] [--runs 50]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "env/env.h"
#include "observatory/query/freshness.h"
#include "observatory/store/records.h"
#include "observatory/store/sqlite/sqlite_span_store.h"
#include "trace/semconv.h"

using namespace backspan;
using namespace backspan::observatory;

namespace {

double Ms(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  int sources = 10000, runs = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--sources")) sources = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
  }
  const std::string dir = std::filesystem::temp_directory_path() / ("backspan-freshness-bench-" + std::to_string(getpid()));
  Env* env = Env::Default();
  StoreOptions options;
  options.dir = dir;
  options.sync_full = false;
  auto store = SqliteSpanStore::Open(options, env);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().message().c_str());
    return 1;
  }
  const int64_t now = env->NowUnixNanos();
  const char* crons[] = {"0 1 * * *", "30 2 * * *", "*/15 * * * *", "0 */6 * * *", "0 3 * * 0", "@hourly"};
  const char* zones[] = {"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"};
  const int per_agent = 100;
  IngestBatch agents_batch;
  for (int a = 0; a * per_agent < sources; ++a) {
    AgentRecord agent;
    agent.name = agent.host = "host-" + std::to_string(a);
    agent.sent_ns = agent.received_ns = now;
    for (int p = 0; p < per_agent && a * per_agent + p < sources; ++p) {
      const int i = a * per_agent + p;
      DeclaredPolicy d;
      d.name = "policy-" + std::to_string(p);
      d.schedule = crons[i % 6];
      d.timezone = zones[i % 4];
      d.paths = {"/srv/data/" + std::to_string(i)};
      d.resource_group = "rg-" + std::to_string(i % 20);
      d.tags = {{std::string(semconv::kAzureResourceGroupName), d.resource_group}};
      d.source_key = SourceKey(agent.host, "backspan", d.paths, {std::string(semconv::kAzureResourceGroupName) + "=" + d.resource_group});
      d.first_declared_ns = now - 86400LL * 1'000'000'000;
      agent.policies.push_back(d);
    }
    agents_batch.agents.push_back(agent);
  }
  // One finished backup per source, a few hours old.
  for (int start = 0; start < sources; start += 1000) {
    IngestBatch batch;
    for (int i = start; i < std::min(sources, start + 1000); ++i) {
      JobRecord j;
      for (int k = 0; k < 16; ++k) j.trace_id[k] = static_cast<uint8_t>((i >> (k % 4 * 8)) + k);
      for (int k = 0; k < 8; ++k) j.span_id[k] = static_cast<uint8_t>((i >> (k % 4 * 8)) + 3 * k);
      j.name = j.kind = "backup";
      j.status = (i % 17) ? semconv::kJobStatusOk : semconv::kJobStatusFailed;
      j.host = "host-" + std::to_string(i / per_agent);
      j.service = "backspan";
      j.resource_group = "rg-" + std::to_string(i % 20);
      j.start_ns = now - (1 + i % 7) * 3600LL * 1'000'000'000;
      j.end_ns = j.start_ns + 60LL * 1'000'000'000;
      j.source_key = SourceKey(j.host, "backspan", {"/srv/data/" + std::to_string(i)},
                               {std::string(semconv::kAzureResourceGroupName) + "=" + j.resource_group}, &j.source_paths);
      batch.jobs.push_back(std::move(j));
    }
    batch.accepted = static_cast<int64_t>(batch.jobs.size());
    if (auto w = (*store)->Write(std::move(batch), Scope::All()); !w.ok()) {
      std::fprintf(stderr, "%s\n", w.status().message().c_str());
      return 1;
    }
  }
  if (auto w = (*store)->Write(std::move(agents_batch), Scope::All()); !w.ok()) return 1;
  (void)(*store)->Sources(Scope::All());  // the aggregates are written

  std::vector<double> total, compute;
  size_t states[6] = {};
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto s = (*store)->Sources(Scope::All());
    auto a = (*store)->Agents(Scope::All());
    const auto t1 = std::chrono::steady_clock::now();
    const auto declared = Declarations(*a);
    auto board = FreshnessBoard(std::move(*s), declared, env->NowUnixNanos(), 26LL * 3600 * 1'000'000'000);
    const auto t2 = std::chrono::steady_clock::now();
    total.push_back(Ms(t2 - t0));
    compute.push_back(Ms(t2 - t1));
    if (r == 0)
      for (const auto& v : board) states[static_cast<int>(v.freshness.state)]++;
  }
  std::filesystem::remove_all(dir);
  std::printf("{\"sources\": %d, \"runs\": %d, \"read_and_compute_ms\": {\"p50\": %.1f, \"p95\": %.1f, \"max\": %.1f}, "
              "\"compute_ms\": {\"p50\": %.1f, \"p95\": %.1f, \"max\": %.1f}, \"states\": {\"ok\": %zu, \"running\": %zu, "
              "\"late\": %zu, \"overdue\": %zu, \"failing\": %zu, \"paused\": %zu}}\n",
              sources, runs, Percentile(total, 0.5), Percentile(total, 0.95), Percentile(total, 1.0),
              Percentile(compute, 0.5), Percentile(compute, 0.95), Percentile(compute, 1.0), states[0], states[1], states[2],
              states[3], states[4], states[5]);
  return 0;
}
