#include "observatory/ops/job_runner.h"

#include <signal.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "crypto/crypto.h"
#include "env/env.h"
#include "trace/semconv.h"
#include "util/hex.h"
#include "util/text.h"
#include "util/time_format.h"
#include "wrap/child_process.h"

namespace backspan::observatory {
namespace {

constexpr size_t kStderrTail = 20;
constexpr size_t kKeptRuns = 1000;  // finished runs beyond these are forgotten, oldest first

std::string RandomHex(size_t bytes) {
  std::vector<uint8_t> b(bytes);
  crypto::RandomBytes(b.data(), b.size());
  return HexEncode(ByteView(b.data(), b.size()));
}


}  // namespace

std::string RunInfo::ToJson() const {
  nlohmann::json j = {{"id", id},          {"plan", plan},       {"command", command},
                      {"state", state},    {"triggered_by", triggered_by},
                      {"started", FormatRfc3339(started_ns)}, {"stderr_tail", stderr_tail}};
  if (!trace_id.empty()) j["trace_id"] = trace_id;
  if (ended_ns) {
    j["ended"] = FormatRfc3339(ended_ns);
    j["exit_code"] = exit_code;
  }
  if (!summary.empty()) {
    nlohmann::json s = nlohmann::json::parse(summary, nullptr, false);
    if (!s.is_discarded()) j["summary"] = s;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string EncodeRun(const RunInfo& info) {
  nlohmann::json tags = nlohmann::json::array();
  for (const auto& [k, v] : info.plan_tags) tags.push_back({k, v});
  return nlohmann::json{{"id", info.id}, {"plan", info.plan}, {"command", info.command},
                        {"triggered_by", info.triggered_by}, {"state", info.state}, {"exit_code", info.exit_code},
                        {"started_ns", info.started_ns}, {"ended_ns", info.ended_ns}, {"trace_id", info.trace_id},
                        {"stderr_tail", info.stderr_tail}, {"summary", info.summary}, {"plan_tags", tags}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<RunInfo> DecodeRun(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    RunInfo info;
    info.id = j.at("id").get<std::string>();
    info.plan = j.at("plan").get<std::string>();
    info.command = j.at("command").get<std::string>();
    info.triggered_by = j.at("triggered_by").get<std::string>();
    info.state = j.at("state").get<std::string>();
    info.exit_code = j.at("exit_code").get<int>();
    info.started_ns = j.at("started_ns").get<int64_t>();
    info.ended_ns = j.at("ended_ns").get<int64_t>();
    info.trace_id = j.at("trace_id").get<std::string>();
    info.stderr_tail = j.at("stderr_tail").get<std::vector<std::string>>();
    info.summary = j.at("summary").get<std::string>();
    for (const auto& t : j.at("plan_tags")) info.plan_tags.emplace_back(t.at(0).get<std::string>(), t.at(1).get<std::string>());
    if (info.id.empty()) return std::nullopt;
    return info;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // damaged: not a run
  }
}

JobRunner::JobRunner(std::string program, std::string endpoint, Env* env)
    : program_(std::move(program)), endpoint_(std::move(endpoint)), env_(env) {}

JobRunner::~JobRunner() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& r : runs_)
      if (r->info.state == "running" && r->pid > 0) kill(r->pid, SIGTERM);
  }
  for (auto& r : runs_)
    if (r->thread.joinable()) r->thread.join();
}

Result<RunInfo> JobRunner::Start(const RunRequest& request) {
  auto run = std::make_unique<Run>();
  run->info.id = RandomHex(8);
  run->info.plan = request.plan.name;
  run->info.command = request.command;
  run->info.triggered_by = request.triggered_by;
  run->info.started_ns = env_->NowUnixNanos();
  run->info.plan_tags = request.plan.tags;
  run->token = "run." + RandomHex(32);

  std::vector<std::string> argv = {program_, "--json", "-r", request.plan.repository, "-p", request.plan.password_file,
                                   request.command};
  argv.insert(argv.end(), request.args.begin(), request.args.end());
  std::string resource = std::string(semconv::kRunId) + "=" + run->info.id + "," + semconv::kPlanName + "=" +
                         PercentEncode(request.plan.name);
  if (!request.triggered_by.empty()) resource += std::string(",") + semconv::kEnduserId + "=" + PercentEncode(request.triggered_by);
  // The run exports here and nowhere else, whatever the server's own
  // environment says; it starts a trace of its own.
  std::vector<std::string> environment = {
      "OTEL_SDK_DISABLED=false",
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + endpoint_ + "/v1/traces",
      "OTEL_EXPORTER_OTLP_ENDPOINT=" + endpoint_,
      "OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20" + run->token,
      "OTEL_EXPORTER_OTLP_TRACES_HEADERS=authorization=Bearer%20" + run->token,
      "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
      "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf",
      "OTEL_RESOURCE_ATTRIBUTES=" + resource,
      "TRACEPARENT=",
      "TRACESTATE=",
  };

  // Another runner's (checked first, outside the lock: it reads the
  // ledger), then the plan claimed for this run, so that two runners asked
  // at once do not both start it.
  if (ledger_) {
    for (const RunInfo& other : ledger_->List(kKeptRuns))
      if (other.plan == request.plan.name && other.state == "running")
        return Status::AlreadyExists("plan '" + request.plan.name + "' has a job running: " + other.id);
    RETURN_IF_ERROR(ledger_->Claim(request.plan.name, run->info.id));
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return Status::IOError("the server is stopping");
  for (const auto& r : runs_)
    if (r->info.plan == request.plan.name && r->info.state == "running")
      return Status::AlreadyExists("plan '" + request.plan.name + "' has a job running: " + r->info.id);
  // Forget the oldest finished runs; their threads are done or nearly.
  while (runs_.size() >= kKeptRuns) {
    auto it = std::find_if(runs_.begin(), runs_.end(), [](const auto& r) { return r->info.state != "running"; });
    if (it == runs_.end()) break;
    if ((*it)->thread.joinable()) (*it)->thread.join();
    runs_.erase(it);
  }
  Run* raw = run.get();
  RunInfo info = run->info;
  runs_.push_back(std::move(run));
  raw->thread = std::thread([this, raw, argv = std::move(argv), environment = std::move(environment)]() mutable {
    Execute(raw, std::move(argv), std::move(environment));
  });
  lock.unlock();
  if (ledger_) ledger_->Record(info);
  return info;
}

void JobRunner::Execute(Run* run, std::vector<std::string> argv, std::vector<std::string> environment) {
  std::vector<std::string> tail;
  std::string last_json;
  wrap::ChildOptions options;
  options.pass_through = false;
  options.null_stdin = true;
  options.environment = std::move(environment);
  options.on_stdout = [&](std::string_view line) {
    if (!line.empty() && line.front() == '{') last_json.assign(line);
  };
  options.on_stderr = [&](std::string_view line) {
    if (line.empty()) return;
    tail.emplace_back(line.substr(0, 1000));
    if (tail.size() > kStderrTail) tail.erase(tail.begin());
  };
  options.on_start = [&](int pid) {
    std::lock_guard<std::mutex> lock(mu_);
    run->pid = pid;
    if (stopping_) kill(pid, SIGTERM);
  };
  auto code = wrap::RunChild(argv, options);
  std::unique_lock<std::mutex> lock(mu_);
  RunInfo& info = run->info;
  info.ended_ns = env_->NowUnixNanos();
  info.exit_code = code.ok() ? *code : 127;
  info.state = info.exit_code == 0 ? "succeeded" : "failed";
  if (!code.ok()) tail.push_back(code.status().message());
  info.stderr_tail = std::move(tail);
  info.summary = std::move(last_json);
  run->pid = 0;
  const RunInfo ended = info;
  lock.unlock();
  if (ledger_) ledger_->Record(ended);
}

std::optional<RunInfo> JobRunner::Get(const std::string& id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& r : runs_)
      if (r->info.id == id) return r->info;
  }
  return ledger_ ? ledger_->Get(id) : std::nullopt;
}

std::vector<RunInfo> JobRunner::List(size_t limit) const {
  std::vector<RunInfo> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = runs_.rbegin(); it != runs_.rend() && out.size() < limit; ++it) out.push_back((*it)->info);
  }
  if (!ledger_) return out;
  // This runner's own, as they are now; the others' as the ledger has them.
  for (RunInfo& other : ledger_->List(limit))
    if (std::none_of(out.begin(), out.end(), [&](const RunInfo& r) { return r.id == other.id; }))
      out.push_back(std::move(other));
  std::stable_sort(out.begin(), out.end(), [](const RunInfo& a, const RunInfo& b) { return a.started_ns > b.started_ns; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::optional<Scope> JobRunner::IngestScope(const std::string& bearer) const {
  if (bearer.rfind("run.", 0) != 0) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : runs_) {
    // A run's token stops working when the run ends.
    if (r->info.state != "running" || !crypto::SecretEquals(bearer, r->token)) continue;
    // The plan's resource group if it has one (its tags could otherwise
    // reach into another group), else its tags.
    const std::string group = TaggedResourceGroup(r->info.plan_tags);
    return group.empty() ? Scope::Of({}, r->info.plan_tags) : Scope::Of({group}, {});
  }
  return std::nullopt;
}

void JobRunner::NoteTrace(const std::string& bearer, const std::string& trace_id) {
  std::optional<RunInfo> noted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& r : runs_)
      if (r->info.trace_id.empty() && crypto::SecretEquals(bearer, r->token)) {
        r->info.trace_id = trace_id;
        noted = r->info;
      }
  }
  if (noted && ledger_) ledger_->Record(*noted);
}

}  // namespace backspan::observatory
