#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "backend/location.h"
#include "backend/cache/cached_backend.h"
#include "backend/open/open_backend.h"
#include "backend/traced_backend.h"
#include "cli/context.h"
#include "cli/json_output.h"
#include "cli/telemetry.h"
#include "trace/semconv.h"

namespace backspan::cli {

std::string RepositoryLocation(const GlobalOptions& g) {
  if (!g.repo.empty()) return g.repo;
  const char* env = std::getenv("BACKSPAN_REPOSITORY");
  return env ? env : "";
}

Result<std::unique_ptr<Backend>> OpenLocation(const GlobalOptions& g, const trace::Span& span) {
  ASSIGN_OR_RETURN(Location loc, ParseLocation(RepositoryLocation(g)));
  BackendOptions o;
  o.env = Env::Default();
  o.span = &span;
  o.tls.ca_file = g.cacert;
  o.allow_http = g.insecure_http;
  for (const auto& kv : g.options) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument("-o " + kv + ": give KEY=VALUE (connections, timeout, retries, part-size)");
    o.extended.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  ASSIGN_OR_RETURN(auto backend, OpenBackend(loc, o));
  const std::string cache = g.cache_dir.empty() ? DefaultCacheDir() : g.cache_dir;
  if (loc.scheme == Location::Scheme::kLocal || g.no_cache || cache.empty()) return backend;
  return NewCachedBackend(std::move(backend), cache, Env::Default());
}

void RecordStorageCounts(const Backend& backend, trace::Span& span) {
  uint64_t requests = 0, retries = 0, sent = 0, received = 0;
  for (const RequestCounts& c : backend.Counts()) {
    span.SetAttribute(semconv::kStoragePrefix + c.operation + ".requests", static_cast<int64_t>(c.requests));
    if (c.retries) span.SetAttribute(semconv::kStoragePrefix + c.operation + ".retries", static_cast<int64_t>(c.retries));
    if (c.failures) span.SetAttribute(semconv::kStoragePrefix + c.operation + ".failures", static_cast<int64_t>(c.failures));
    requests += c.requests;
    retries += c.retries;
    sent += c.bytes_sent;
    received += c.bytes_received;
  }
  if (requests == 0) return;
  span.SetAttribute(semconv::kStorageRequests, static_cast<int64_t>(requests));
  span.SetAttribute(semconv::kStorageRetries, static_cast<int64_t>(retries));
  span.SetAttribute(semconv::kStorageBytesSent, static_cast<int64_t>(sent));
  span.SetAttribute(semconv::kStorageBytesReceived, static_cast<int64_t>(received));
}

Result<OpenedRepository> OpenRepository(const GlobalOptions& g, bool load_index, LockKind lock,
                                        const char* command) {
  const trace::Span& job = JobSpan(g);
  OpenedRepository opened;
  opened.job_span = &job;
  if (g.job) opened.root_span = &g.job->root();
  RETURN_IF_ERROR(trace::InChildSpan(job, "open repository", [&](trace::Span& phase) -> Status {
    ASSIGN_OR_RETURN(auto backend, OpenLocation(g, job));
    ASSIGN_OR_RETURN(bool is_repo, backend->IsRepository());
    if (!is_repo)  // before asking for a password that cannot help
      return Status::NotARepository(backend->Location() +
                                    " is not a backspan repository (no config file); check --repo, "
                                    "or create one with 'backspan init'");
    ASSIGN_OR_RETURN(std::string password, ReadPassword(g, false, phase));
    // Slow storage requests become events on the job's span.
    backend = NewTracedBackend(std::move(backend), &job, Env::Default());
    ASSIGN_OR_RETURN(opened.repo, Repository::Open(std::move(backend), Env::Default(), password));
    // Over a network a request costs milliseconds: blobs come in windows.
    if (ParseLocation(RepositoryLocation(g))->scheme != Location::Scheme::kLocal)
      opened.repo->EnableReadAhead(4 << 20, 16);
    return Status::Ok();
  }));
  if (g.job) g.job->root().SetAttribute(semconv::kRepository, opened.repo->backend()->Location());
  if (lock != LockKind::kNone) {
    bool exclusive = lock == LockKind::kExclusive;
    // An exclusive lock is for removing data: with credentials that may not
    // (append-only), fail before writing even the lock.
    if (exclusive) RETURN_IF_ERROR(opened.repo->backend()->CheckRemovable());
    ASSIGN_OR_RETURN(opened.lock, trace::InChildSpan(job, "lock", [&](trace::Span& phase) {
      phase.SetAttribute(semconv::kLockExclusive, exclusive);
      return RepositoryLock::Acquire(opened.repo.get(), exclusive, command, Hostname(), Username());
    }));
  }
  if (load_index) RETURN_IF_ERROR(LoadIndexOrWarn(g, opened.repo.get(), false));
  return opened;
}

Status LoadIndexOrWarn(const GlobalOptions& g, Repository* repo, bool for_writing) {
  std::vector<std::string> damaged;
  RETURN_IF_ERROR(trace::InChildSpan(JobSpan(g), "load index", [&](trace::Span& phase) {
    Status s = for_writing ? repo->LoadIndexForWriting(&damaged) : repo->LoadIndex(nullptr, nullptr, &damaged);
    for (const auto& why : damaged)
      phase.AddEvent("index damaged", {{semconv::kExceptionMessage, why}});
    return s;
  }));
  for (const auto& why : damaged)
    Warn(g, why + (for_writing ? "; until then its blobs are stored again" : "; until then its blobs cannot be read"));
  return Status::Ok();
}

void Warn(const GlobalOptions& g, const std::string& message) {
  if (g.json) std::fprintf(stderr, "%s\n", WarningJson(message).c_str());
  else if (!g.quiet) std::fprintf(stderr, "warning: %s\n", message.c_str());
}

int Fail(const GlobalOptions& g, const Status& status) {
  if (g.job) g.job->RecordError(status);
  const bool interrupted = status.code() == ErrorCode::kInterrupted;
  const int code = interrupted ? kExitInterrupted : kExitFailure;
  if (g.json) std::fprintf(stderr, "%s\n", ErrorJson(status, code).c_str());
  else std::fprintf(stderr, "%s: %s\n", interrupted ? "Interrupted" : "Fatal", status.message().c_str());
  return code;
}

int UsageError(const GlobalOptions& g, const std::string& message) {
  if (g.job) g.job->RecordError(Status::InvalidArgument(message));
  if (g.json) std::fprintf(stderr, "%s\n", ErrorJson(Status::InvalidArgument(message), kExitUsage).c_str());
  else std::fprintf(stderr, "Usage error: %s\n", message.c_str());
  return kExitUsage;
}

std::string Hostname() {
  // The agent names the host its jobs run for (its configuration's host).
  if (const char* h = std::getenv("BACKSPAN_HOST"); h && *h) return h;
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::string Username() {
  if (const struct passwd* pw = getpwuid(geteuid())) return pw->pw_name;
  return std::to_string(geteuid());
}

}  // namespace backspan::cli
