// What the handlers of `backspan serve` share (internal to server.cc,
// request_gate.cc and ingest_handlers.cc): the store, the APIs, the
// counters, and the gate every request passes before its handler reads it.
#pragma once

#include <memory>
#include <string>

#include "http/message.h"
#include "notify/notifier.h"
#include "observatory/access/access_control.h"
#include "observatory/alerting/alerting.h"
#include "observatory/replicas/anomaly_mirror.h"
#include "observatory/replicas/notification_relay.h"
#include "observatory/replicas/shared_runs.h"
#include "observatory/api/insight_api.h"
#include "observatory/api/operations_api.h"
#include "observatory/api/server_options.h"
#include "observatory/api/query_api.h"
#include "observatory/ingest/audit_spans.h"
#include "observatory/ingest/external_span_writer.h"
#include "observatory/insight/observed_store.h"
#include "observatory/ops/agent_requests.h"
#include "observatory/ops/job_runner.h"
#include "observatory/query/metrics.h"
#include "util/memory_budget.h"

namespace backspan::observatory {

struct ServerContext {
  ServerContext(ServerOptions o, SpanStore* s, Env* e)
      : options(std::move(o)),
        insight(std::make_unique<insight::InsightEngine>(s, options.insight_quota_bytes)),
        observed(std::make_unique<insight::ObservedStore>(s, insight.get())),
        store(observed.get()), env(e), api(store, e, options.default_stale_ns), insight_api(store, insight.get(), e),
        external(store), agent_requests(std::make_unique<AgentRequestQueue>(e)), decoding(options.decode_memory_bytes) {}

  ServerOptions options;
  // Insight judges every job stored through `observed`, the store as the
  // handlers write to it (declared first: it outlives them).
  std::unique_ptr<insight::InsightEngine> insight;
  std::unique_ptr<insight::ObservedStore> observed;
  // With a store replicas share: the leader's anomalies to the others.
  std::unique_ptr<AnomalyMirror> anomaly_mirror;
  SpanStore* store;
  Env* env;
  Api api;
  InsightApi insight_api;
  IngestCounters counters;
  ExternalSpanWriter external;
  std::unique_ptr<AuditSpanWriter> audit_spans;  // with access control: the audit log, as spans
  std::unique_ptr<SharedRuns> shared_runs;       // with plans and a store replicas share: every replica's runs
  std::unique_ptr<JobRunner> runner;             // with plans: runs their jobs (made in Bind: it needs the port)
  std::unique_ptr<OperationsApi> ops;
  std::unique_ptr<AgentRequestQueue> agent_requests;  // "back up now" for agents' policies
  // With notifications: the notifier; with a store replicas share, the
  // relay that sends every replica's events to the leader's notifier;
  // `events`, where events go (the relay, else the notifier); and the check
  // of sources against their schedules. Destroyed in reverse: the watcher
  // first (it publishes), the notifier last.
  std::unique_ptr<notify::Notifier> notifier;
  std::unique_ptr<NotificationRelay> relay;
  notify::EventSink* events = nullptr;
  std::unique_ptr<ExpectationWatcher> watcher;
  const http::Server* http = nullptr;            // for its counters in /metrics
  double start_seconds = 0;
  // What decoding the bodies of requests in flight may take (see Reserve).
  MemoryBudget decoding;

  // Takes the memory decoding `body` will need (`format` JSON: measured
  // without parsing, times `copies` for the trees built from it; protobuf:
  // kOtlpDecodeAmplification times its size), waiting a while if others
  // hold it; an empty lease if it did not free up (answer 503).
  MemoryBudget::Lease Reserve(std::string_view body, bool json, size_t copies);

  // Who sends `req`, and the scope in which it holds `permission`: a job
  // this server runs (its run token), the access control's verdict on its
  // bearer token, or anyone at all when access control is off. A refusal
  // (status 401 or 403, with why) is counted and audited; an allowed
  // request is audited as `action` only if `audit_allowed` (else the
  // handler audits the outcome itself).
  AccessDecision Admit(const http::Request& req, const char* permission, const std::string& action, bool audit_allowed);

  // Audits the outcome of an allowed request, when access control is on.
  void AuditOutcome(const AccessDecision& who, const std::string& action, const http::Request& req,
                    const std::string& result, const std::string& detail);
};

// How many times its size decoding a protobuf body takes at most, measured
// on the worst input (one-character attributes: 19.5 times).
inline constexpr size_t kOtlpDecodeAmplification = 24;

// `r` as a JSON answer (503s with Retry-After).
void AnswerJson(http::Response& res, const ApiResponse& r);
// A refusal from Admit as a JSON answer, with WWW-Authenticate on a 401.
void AnswerRefusal(http::Response& res, const AccessDecision& who);

// POST /v1/traces and /v1/traces/in-progress.
void HandleOtlp(ServerContext& ctx, http::Request& req, http::Response& res, bool in_progress);

// What each external ingest endpoint reads.
enum class ExternalFormat { kAzureMonitor, kAzureBackupJobs, kJobEvents };
// The largest body (as sent, and decoded) each of them reads.
size_t ExternalBodyLimit(const ServerOptions& options, ExternalFormat format);
// The largest body of an operation or an acknowledgement.
inline constexpr size_t kMaxOperationBody = 1 << 20;
// POST /api/v1/ingest/{azure-monitor,azure-backup-jobs,events}.
void HandleExternal(ServerContext& ctx, http::Request& req, http::Response& res, ExternalFormat format);
// Who may write through a JSON ingest endpoint: a token with the ingest
// permission under access control; else the ingest token, if one is set
// (?token=... for systems that cannot set a header).
AccessDecision AdmitWriter(ServerContext& ctx, const http::Request& req, const char* action);
// GET /api/v1/agents/{agent}/requests?wait=25s: the agent's long poll for
// "back up now" requests.
void HandleAgentRequests(ServerContext& ctx, http::Request& req, http::Response& res);
// POST /api/v1/agents/{agent}/policies/{policy}/{backup|restore}: queue a
// run on the agent that owns the policy (202 with the request); restore's
// body is {"snapshot": "latest", "target": "dir"}.
ApiResponse RunNow(ServerContext& ctx, const std::string& agent, const std::string& policy, const std::string& action,
                   const std::string& body, const AccessDecision& who);
// POST /api/v1/agents/heartbeat: an agent's liveness and declared schedules.
void HandleHeartbeat(ServerContext& ctx, http::Request& req, http::Response& res);
// POST /api/v1/alerts/{trace}/{span}/acknowledge.
void HandleAcknowledge(ServerContext& ctx, http::Request& req, http::Response& res);

}  // namespace backspan::observatory
