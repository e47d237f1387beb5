// `backspan audit verify|list`: checking and reading the observatory's
// tamper-evident audit log (docs/security.md, "Audit log").
#include <cstdio>

#include "audit/audit_log.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "env/env.h"
#include "trace/export/job_history.h"
#include "util/time_format.h"

namespace backspan::cli {
namespace {

std::string AuditDir(const GlobalOptions& g, const std::string& data) {
  if (!data.empty()) return data + "/audit";
  std::string state = g.trace.state_dir.empty() ? trace::DefaultStateDir() : g.trace.state_dir;
  return state + "/observatory/audit";
}

// Verifies the chain in `data`'s audit log and prints the verdict.
int VerifyOne(const GlobalOptions& g, const std::string& data) {
  const std::string dir = AuditDir(g, data);
  if (!Env::Default()->Exists(dir)) return Fail(g, Status::NotFound("no audit log at " + dir));
  auto report = audit::VerifyAuditLog(Env::Default(), dir);
  if (!report.ok()) return Fail(g, report.status());
  if (g.json) {
    std::string problems = "[";
    for (size_t i = 0; i < report->problems.size(); ++i) {
      if (i) problems += ',';
      problems += audit::JsonString(report->problems[i]);
    }
    std::printf("{\"message_type\":\"audit_verify\",\"dir\":%s,\"records\":%lld,\"segments\":%lld,\"intact\":%s,\"problems\":%s]}\n",
                audit::JsonString(dir).c_str(), static_cast<long long>(report->records),
                static_cast<long long>(report->segments), report->ok() ? "true" : "false", problems.c_str());
  } else {
    for (const auto& p : report->problems) std::printf("TAMPERED: %s\n", p.c_str());
    if (report->ok() && !g.quiet)
      std::printf("audit log intact: %lld records in %lld segments (%s)\n", static_cast<long long>(report->records),
                  static_cast<long long>(report->segments), dir.c_str());
  }
  return report->ok() ? kExitOk : kExitFailure;
}

}  // namespace

int RunAuditVerify(const GlobalOptions& g, const AuditCommand& c) {
  // Every chain is checked, even after one fails.
  int rc = kExitOk;
  for (const std::string& data : c.data.empty() ? std::vector<std::string>{""} : c.data)
    if (int one = VerifyOne(g, data); one != kExitOk) rc = one;
  return rc;
}

int RunAuditList(const GlobalOptions& g, const AuditCommand& c) {
  if (c.data.size() > 1) return UsageError(g, "list reads one audit log: give --data once");
  const std::string dir = AuditDir(g, c.data.empty() ? "" : c.data[0]);
  if (!Env::Default()->Exists(dir)) return Fail(g, Status::NotFound("no audit log at " + dir));
  audit::AuditFilter f;
  if (!c.since.empty()) {
    auto d = ParseDuration(c.since);
    auto t = d ? std::optional<int64_t>(Env::Default()->NowUnixNanos() - *d) : ParseUserTime(c.since);
    if (!t) return UsageError(g, "--since must be a duration such as 24h, or a time");
    f.since_ns = *t;
  }
  f.subject = c.subject;
  f.action = c.action;
  f.result = c.result;
  f.scope = c.scope;
  f.limit = c.limit;
  auto records = audit::ListAuditLog(Env::Default(), dir, f);
  if (!records.ok()) return Fail(g, records.status());
  for (const auto& r : *records) {
    if (g.json) {
      std::printf("%s\n", audit::RecordJson(r).c_str());
    } else {
      std::printf("%6lld  %s  %-7s  %-16s  %-24s  %-12s  %s%s%s\n", static_cast<long long>(r.seq),
                  FormatLocalShort(r.time_ns).c_str(), r.result.c_str(), r.subject.c_str(), r.action.c_str(),
                  r.scope.c_str(), r.resource.c_str(), r.detail.empty() ? "" : "  ", r.detail.c_str());
    }
  }
  return kExitOk;
}

}  // namespace backspan::cli
