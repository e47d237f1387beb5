// `backspan jobs` and `backspan trace`: the local job history, as a table
// and as a waterfall drawn in the terminal.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "cli/context.h"
#include "cli/json_output.h"
#include "cli/progress.h"
#include "env/env.h"
#include "trace/export/job_history.h"
#include "trace/semconv.h"
#include "util/time_format.h"

namespace backspan::cli {
namespace {

Result<std::unique_ptr<trace::JobHistory>> OpenHistory(const GlobalOptions& g) {
  return trace::JobHistory::Open(g.trace.state_dir.empty() ? trace::DefaultStateDir() : g.trace.state_dir);
}

std::string Ms(int64_t ns) {
  char buf[32];
  double ms = static_cast<double>(ns) / 1e6;
  if (ms >= 10'000) std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000);
  else if (ms >= 100) std::snprintf(buf, sizeof buf, "%.0f ms", ms);
  else std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  return buf;
}

// Spans in tree order (children after their parent, by start time), with depth.
void Order(const std::vector<trace::SpanData>& spans, std::vector<std::pair<const trace::SpanData*, int>>* out) {
  std::map<trace::SpanId, std::vector<const trace::SpanData*>> children;
  std::map<trace::SpanId, bool> present;
  for (const auto& s : spans) present[s.span_id] = true;
  std::vector<const trace::SpanData*> roots;
  for (const auto& s : spans) {
    if (s.is_root() || !present.count(s.parent_span_id)) roots.push_back(&s);
    else children[s.parent_span_id].push_back(&s);
  }
  auto visit = [&](auto&& self, const trace::SpanData* s, int depth) -> void {
    out->push_back({s, depth});
    auto it = children.find(s->span_id);
    if (it == children.end()) return;
    auto kids = it->second;
    std::sort(kids.begin(), kids.end(), [](auto* a, auto* b) { return a->start_ns < b->start_ns; });
    for (auto* k : kids) self(self, k, depth + 1);
  };
  std::sort(roots.begin(), roots.end(), [](auto* a, auto* b) { return a->start_ns < b->start_ns; });
  for (auto* r : roots) visit(visit, r, 0);
}

std::string EventSummary(const trace::SpanEvent& e) {
  std::string out = e.name;
  for (const auto& a : e.attributes) out += "  " + a.key + "=" + trace::AttributeText(a.value);
  return out;
}

}  // namespace

int RunJobs(const GlobalOptions& g, const JobsCommand& c) {
  trace::JobFilter f;
  f.tags = c.tags;
  f.status = c.status;
  f.limit = c.limit;
  if (!c.since.empty()) {
    auto d = ParseDuration(c.since);
    if (!d) return UsageError(g, "--since must be a duration such as 24h or 7d");
    f.since_ns = Env::Default()->NowUnixNanos() - *d;
  }
  auto history = OpenHistory(g);
  if (!history.ok()) return Fail(g, history.status());
  auto jobs = (*history)->ListJobs(f);
  if (!jobs.ok()) return Fail(g, jobs.status());
  if (g.json) {
    std::printf("%s\n", JobsJson(*jobs).c_str());
    return kExitOk;
  }
  std::printf("%-16s  %-10s  %-19s  %9s  %-6s  %10s  %-8s  %s\n", "JOB", "KIND", "START", "DURATION", "STATUS",
              "ADDED", "SNAPSHOT", "TAGS");
  for (const auto& j : *jobs) {
    std::string tags;
    for (const auto& t : j.tags) tags += (tags.empty() ? "" : ",") + t;
    std::string status = j.status;
    if (status == semconv::kJobStatusFailed && !j.error_type.empty()) status += " (" + j.error_type + ")";
    std::printf("%-16s  %-10s  %-19s  %9s  %-6s  %10s  %-8s  %s\n", j.job_id.c_str(), j.kind.c_str(),
                FormatLocalShort(j.start_ns).c_str(), Ms(j.end_ns - j.start_ns).c_str(), status.c_str(),
                j.kind == "backup" ? FormatBytes(static_cast<uint64_t>(j.bytes_added)).c_str() : "",
                j.snapshot_id.substr(0, 8).c_str(), tags.c_str());
  }
  if (!g.quiet) std::printf("%zu jobs\n", jobs->size());
  return kExitOk;
}

int RunTrace(const GlobalOptions& g, const TraceCommand& c) {
  auto history = OpenHistory(g);
  if (!history.ok()) return Fail(g, history.status());
  std::string id = c.id;
  if (id == "latest") {
    trace::JobFilter newest;
    newest.limit = 1;
    auto last = (*history)->ListJobs(newest);
    if (!last.ok()) return Fail(g, last.status());
    if (last->empty()) return Fail(g, Status::NotFound("the job history is empty"));
    id = (*last)[0].job_id;
  }
  std::vector<trace::JobRecord> jobs;
  auto spans = (*history)->LoadTrace(id, &jobs);
  if (!spans.ok()) return Fail(g, spans.status());
  if (g.json) {
    std::printf("%s\n", TraceJson(jobs, *spans).c_str());
    return kExitOk;
  }
  if (spans->empty()) return Fail(g, Status::NotFound("the trace has no spans"));
  int64_t t0 = spans->front().start_ns, t1 = t0;
  for (const auto& s : *spans) {
    t0 = std::min(t0, s.start_ns);
    t1 = std::max(t1, s.end_ns);
  }
  std::vector<std::pair<const trace::SpanData*, int>> rows;
  Order(*spans, &rows);
  size_t label = 0;
  for (const auto& [s, depth] : rows) label = std::max(label, s->name.size() + 2 * static_cast<size_t>(depth));
  label = std::min<size_t>(label, 40);
  unsigned cols = 100;
  winsize ws{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) cols = ws.ws_col;
  int width = c.width ? static_cast<int>(c.width)
                      : std::max(20, static_cast<int>(cols) - static_cast<int>(label) - 14);
  const double span_ns = static_cast<double>(std::max<int64_t>(t1 - t0, 1));

  for (const auto& j : jobs) {
    std::printf("%s job %s  trace %s  %s  %s  %s\n", j.kind.c_str(), j.job_id.c_str(), j.trace_id.c_str(),
                FormatLocalShort(j.start_ns).c_str(), Ms(j.end_ns - j.start_ns).c_str(),
                (j.status + (j.error_type.empty() ? "" : " " + j.error_type)).c_str());
  }
  std::printf("%-*s %-*s %s\n", static_cast<int>(label), "", width, "0", Ms(t1 - t0).c_str());
  for (const auto& [s, depth] : rows) {
    std::string name = std::string(2 * static_cast<size_t>(depth), ' ') + s->name;
    if (name.size() > label) name = name.substr(0, label);
    int from = static_cast<int>(static_cast<double>(s->start_ns - t0) / span_ns * width);
    int to = static_cast<int>(static_cast<double>(s->end_ns - t0) / span_ns * width);
    from = std::clamp(from, 0, width - 1);
    to = std::clamp(std::max(to, from + 1), from + 1, width);
    std::string bar(static_cast<size_t>(from), ' ');
    for (int i = from; i < to; i++) bar += "\u2588";
    bar += std::string(static_cast<size_t>(width - to), ' ');
    bool error = s->status == trace::StatusCode::kError;
    std::printf("%-*s %s %9s%s\n", static_cast<int>(label), name.c_str(), bar.c_str(), Ms(s->end_ns - s->start_ns).c_str(),
                error ? "  ERROR" : "");
    std::string indent(2 * static_cast<size_t>(depth) + 2, ' ');
    if (error && !s->status_message.empty()) std::printf("%s! %s\n", indent.c_str(), s->status_message.c_str());
    size_t shown = 0;
    for (const auto& e : s->events) {
      if (shown++ == 10) {
        std::printf("%s  ... %zu more events\n", indent.c_str(), s->events.size() - 10);
        break;
      }
      std::printf("%s* +%s %s\n", indent.c_str(), Ms(e.time_ns - t0).c_str(), EventSummary(e).c_str());
    }
    if (s->dropped_events) std::printf("%s  (%u events over the limit not recorded)\n", indent.c_str(), s->dropped_events);
  }
  return kExitOk;
}

}  // namespace backspan::cli
