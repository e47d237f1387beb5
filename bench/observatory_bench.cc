// Load for `backspan serve`, driven by bench/observatory.sh.
//
//   observatory_bench ingest URL[,URL...] --jobs N [--connections C] [--days D] [--first-job K]
//     Sends N backup-shaped jobs (a root span and 19 phase spans each) as
//     OTLP/HTTP protobuf requests of 512 spans, over C keep-alive
//     connections, and prints spans/s. Job start times spread over the last D
//     days in job order (--total-jobs T spreads jobs K..K+N of T); tags
//     cycle over 10 resource groups and 50 hosts. With S URLs (replicas),
//     requests are split as a round-robin load balancer would: each
//     connection takes the next request (of 25 jobs) and sends request b to
//     URL (b + b/S) % S, so that every host's jobs reach every replica, in
//     the order of time, whichever replica is slower.
//   observatory_bench query URL --runs R
//     Times the two queries R times each and prints p50/p95/max.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "trace/export/otlp_encoding.h"

using namespace backspan;
using namespace backspan::trace;

namespace {

constexpr int kSpansPerJob = 20;
constexpr int kBatchSpans = 512;
const char* const kPhases[] = {"open repository", "lock", "load index", "find parent", "scan", "process files",
                               "write trees", "write index", "save snapshot", "unlock"};

struct Url {
  std::string host;
  int port = 0;
};

Url ParseUrl(const std::string& url) {
  Url u;
  std::string rest = url.substr(url.find("://") + 3);
  auto colon = rest.find(':');
  u.host = rest.substr(0, colon);
  u.port = std::stoi(rest.substr(colon + 1));
  return u;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The spans of job number `n`: deterministic, so runs are comparable.
// Jobs arrive in time order, as finished jobs do: job n of `total` starts
// n/total of the way through the last `days` days, give or take a minute.
void MakeJob(int64_t n, int64_t total, int64_t now, int64_t days, std::vector<SpanData>* out) {
  std::mt19937_64 rng(static_cast<uint64_t>(n) * 7919 + 1);
  SpanData root;
  for (auto& b : root.trace_id) b = static_cast<uint8_t>(rng());
  root.trace_id[0] |= 1;
  for (auto& b : root.span_id) b = static_cast<uint8_t>(rng());
  root.span_id[0] |= 1;
  root.name = "backup";
  const int64_t span_ns = days * 86'400'000'000'000;
  root.start_ns = now - span_ns + static_cast<int64_t>(static_cast<double>(span_ns) * static_cast<double>(n) / static_cast<double>(total)) +
                  static_cast<int64_t>(rng() % 60'000'000'000ULL);
  const int64_t duration = 30'000'000'000 + static_cast<int64_t>(rng() % 600'000'000'000ULL);
  root.end_ns = root.start_ns + duration;
  const bool failed = rng() % 50 == 0;
  root.status = failed ? StatusCode::kError : StatusCode::kOk;
  if (failed) root.status_message = "Fatal: unable to save snapshot: No space left on device";
  const std::string rg = "rg-" + std::to_string(n % 10);
  const std::string host = "host-" + std::to_string(n % 50);
  const int64_t bytes = 1'000'000'000 + static_cast<int64_t>(rng() % 10'000'000'000ULL);
  root.attributes = {{"backspan.job.kind", std::string("backup")},
                     {"cicd.pipeline.task.name", std::string("backup")},
                     {"cicd.pipeline.task.run.id", ToHex(root.span_id)},
                     {"cicd.pipeline.task.run.result", std::string(failed ? "failure" : "success")},
                     {"process.exit.code", int64_t{failed ? 1 : 0}},
                     {"host.name", host},
                     {"azure.resource_group.name", rg},
                     {"env", std::string(n % 3 ? "prod" : "dev")},
                     {"backspan.tags", StringArray{"azure.resource_group.name=" + rg, std::string(n % 3 ? "env=prod" : "env=dev")}},
                     {"backspan.paths", StringArray{"/srv/data", "/etc"}},
                     {"backspan.repository", std::string("/backup/repo-") + std::to_string(n % 50)},
                     {"backspan.snapshot.id", ToHex(root.trace_id) + ToHex(root.trace_id)},
                     {"backspan.files.total", int64_t{200000}},
                     {"backspan.bytes.total", bytes},
                     {"backspan.bytes.added", bytes / 50},
                     {"backspan.bytes.stored", bytes / 80},
                     {"backspan.throughput.bytes_per_second", static_cast<double>(bytes) / (static_cast<double>(duration) / 1e9)}};
  if (failed) root.attributes.push_back({"error.type", std::string("no_space")});
  int64_t t = root.start_ns;
  const int64_t step = duration / (kSpansPerJob - 1);
  for (int i = 1; i < kSpansPerJob; ++i) {
    SpanData s;
    s.trace_id = root.trace_id;
    for (auto& b : s.span_id) b = static_cast<uint8_t>(rng());
    s.span_id[0] |= 1;
    s.parent_span_id = root.span_id;
    s.name = i <= 10 ? kPhases[i - 1] : "large file";
    s.start_ns = t;
    s.end_ns = t + step;
    t += step;
    s.status = StatusCode::kOk;
    if (i > 10) s.attributes = {{"file.path", "/srv/data/vm-" + std::to_string(i) + ".img"}, {"file.size", int64_t{1} << 34}};
    else s.attributes = {{"backspan.lock.exclusive", false}};
    out->push_back(std::move(s));
  }
  out->push_back(std::move(root));
}

int Ingest(const std::vector<Url>& urls, int64_t jobs, int64_t first_job, int64_t total_jobs, int connections,
           int64_t days) {
  const auto of = static_cast<int64_t>(urls.size());
  const int64_t now = NowNs();
  const int64_t jobs_per_batch = kBatchSpans / kSpansPerJob;  // 25 jobs, 500 spans...
  std::atomic<int64_t> next{0}, spans_sent{0}, failures{0};
  const int64_t batches = (jobs + jobs_per_batch - 1) / jobs_per_batch;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      std::vector<std::unique_ptr<httplib::Client>> clients;
      for (const Url& url : urls) {
        clients.push_back(std::make_unique<httplib::Client>(url.host, url.port));
        clients.back()->set_keep_alive(true);
        clients.back()->set_tcp_nodelay(true);  // as OTLP exporters and curl do
        clients.back()->set_read_timeout(60, 0);
      }
      Resource resource{{{"service.name", std::string("backspan")}, {"service.version", std::string("0.1.0")}, {"os.type", std::string("linux")}}};
      std::vector<SpanData> spans;
      while (true) {
        int64_t b = next.fetch_add(1);
        if (b >= batches) return;
        httplib::Client& cli = *clients[static_cast<size_t>((b + b / of) % of)];
        spans.clear();
        // 25 jobs of 20 spans, topped up to 512 with the next job's first spans.
        for (int64_t j = b * jobs_per_batch; j < std::min(jobs, (b + 1) * jobs_per_batch); ++j)
          MakeJob(first_job + j, total_jobs, now, days, &spans);
        while (spans.size() < kBatchSpans && !spans.empty()) {
          SpanData extra = spans[spans.size() % kSpansPerJob];
          for (auto& x : extra.span_id) x ^= 0x5a;
          extra.parent_span_id = spans.back().span_id;
          spans.push_back(std::move(extra));
        }
        std::string body = EncodeOtlpProtobuf(resource, "0.1.0", spans);
        for (int attempt = 0; attempt < 5; ++attempt) {
          auto res = cli.Post("/v1/traces", body, "application/x-protobuf");
          if (res && res->status == 200) {
            spans_sent += static_cast<int64_t>(spans.size());
            break;
          }
          failures++;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"spans\": %lld, \"seconds\": %.3f, \"spans_per_second\": %.0f, \"failed_requests\": %lld}\n",
              static_cast<long long>(spans_sent.load()), secs, static_cast<double>(spans_sent.load()) / secs,
              static_cast<long long>(failures.load()));
  return failures.load() ? 1 : 0;
}

int Query(const Url& url, int runs) {
  httplib::Client cli(url.host, url.port);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  cli.set_read_timeout(120, 0);
  struct Case {
    const char* name;
    std::string path;
  };
  std::vector<Case> cases = {
      {"jobs_by_tag", "/api/v1/jobs?limit=100&tag=azure.resource_group.name%3Drg-"},
      {"trend_30d_by_rg", "/api/v1/trends?metric=duration&bucket=day&since=30d&kind=backup&group_by=azure.resource_group.name"},
  };
  std::printf("{");
  for (size_t c = 0; c < cases.size(); ++c) {
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      std::string path = cases[c].path;
      if (c == 0) path += std::to_string(i % 10);
      auto t0 = std::chrono::steady_clock::now();
      auto res = cli.Get(path);
      double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (!res || res->status != 200 || res->body.size() < 50) {
        std::fprintf(stderr, "query %s failed\n", path.c_str());
        return 1;
      }
      ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    auto pct = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))]; };
    std::printf("%s\"%s\": {\"p50_ms\": %.2f, \"p95_ms\": %.2f, \"max_ms\": %.2f}", c ? ", " : "", cases[c].name, pct(0.5),
                pct(0.95), ms.back());
  }
  std::printf("}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: observatory_bench ingest URL[,URL...] | query URL [options]\n");
    return 2;
  }
  std::string mode = argv[1];
  std::vector<Url> urls;
  for (std::string list = argv[2]; !list.empty();) {
    const size_t comma = list.find(',');
    urls.push_back(ParseUrl(list.substr(0, comma)));
    list = comma == std::string::npos ? "" : list.substr(comma + 1);
  }
  const Url& url = urls.front();
  int64_t jobs = 1000, first = 0, days = 30, total = 0;
  int connections = 4, runs = 100;
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    long long v = std::atoll(argv[i + 1]);
    if (k == "--jobs") jobs = v;
    else if (k == "--first-job") first = v;
    else if (k == "--total-jobs") total = v;
    else if (k == "--connections") connections = static_cast<int>(v);
    else if (k == "--days") days = v;
    else if (k == "--runs") runs = static_cast<int>(v);
  }
  if (total < first + jobs) total = first + jobs;
  if (mode == "ingest") return Ingest(urls, jobs, first, total, connections, days);
  if (mode == "query") return Query(url, runs);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
