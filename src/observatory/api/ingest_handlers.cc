// The write endpoints: OTLP traces, other systems' backup events, and alert
// acknowledgements. Each admits the caller first, then reads the body
// (undoing its Content-Encoding within the endpoint's limit), decodes it,
// keeps what the caller may write, and stores it; one bad item is a
// rejected item, never an error of the whole request.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "auth/access_policy.h"
#include "crypto/crypto.h"
#include "env/env.h"
#include "http/content_coding.h"
#include "observatory/api/json_text.h"
#include "observatory/ingest/agent_heartbeat.h"
#include "observatory/ingest/azure_events.h"
#include "observatory/ingest/job_events.h"
#include "observatory/api/server_context.h"
#include "observatory/store/span_store.h"
#include "trace/semconv.h"
#include "util/text.h"
#include "util/json_number.h"
#include "util/time_format.h"

namespace backspan::observatory {
namespace {

using Outcome = http::DecodedBody::Outcome;

// gRPC status codes for google.rpc.Status bodies.
constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcPermissionDenied = 7;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcUnavailable = 14;
constexpr int kGrpcUnauthenticated = 16;

// The media type without parameters ("application/json; charset=utf-8").
std::string MediaType(const http::Request& req) {
  std::string ct = AsciiLower(req.headers.Get("Content-Type"));
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  return ct;
}

std::string TooLargeMessage(size_t limit, const char* flag) {
  return "the request body, decompressed, is larger than the limit of " + std::to_string(limit) + " bytes" +
         (flag ? std::string(" (") + flag + ")" : std::string());
}

// An OTLP answer in the request's format.
void AnswerRpc(http::Response& res, WireFormat f, int http_status, int grpc_code, const std::string& message) {
  res.Set(http_status, EncodeRpcStatus(f, grpc_code, message),
          f == WireFormat::kJson ? "application/json" : "application/x-protobuf");
  if (http_status == 503) res.AddHeader("Retry-After", "5");
}

AccessDecision AdmitIngest(ServerContext& ctx, const http::Request& req, const char* action) {
  if (ctx.options.access) return ctx.Admit(req, auth::kIngest, action, true);
  AccessDecision who;
  who.scope = Scope::All();
  if (ctx.options.ingest_token.empty()) return who;
  std::string given = req.Param("token");
  if (given.empty()) given = http::AuthorizationCredentials(req, "Bearer");
  if (given.empty() || !crypto::SecretEquals(given, ctx.options.ingest_token)) {
    who.status = 401;
    who.error = given.empty() ? "this endpoint needs the ingest token: ?token=... or Authorization: Bearer ..."
                              : "the ingest token is wrong";
  }
  return who;
}

}  // namespace

AccessDecision AdmitWriter(ServerContext& ctx, const http::Request& req, const char* action) {
  return AdmitIngest(ctx, req, action);
}

size_t ExternalBodyLimit(const ServerOptions& options, ExternalFormat format) {
  switch (format) {
    case ExternalFormat::kAzureMonitor: return kMaxAlertBytes;
    case ExternalFormat::kJobEvents: return std::min<size_t>(options.max_body_bytes, 1 << 20);
    case ExternalFormat::kAzureBackupJobs: break;
  }
  return options.max_body_bytes;
}

void HandleOtlp(ServerContext& ctx, http::Request& req, http::Response& res, bool in_progress) {
  IngestCounters& counters = ctx.counters;
  const std::string media = MediaType(req);
  const bool protobuf = media == "application/x-protobuf" || media == "application/protobuf";
  // Until the type is known to be protobuf, answers are JSON.
  const WireFormat format = protobuf ? WireFormat::kProtobuf : WireFormat::kJson;
  const std::string action = in_progress ? "ingest.otlp.in_progress" : "ingest.otlp";
  AccessDecision who = ctx.Admit(req, auth::kIngest, action, true);
  if (who.status != 200) {
    AnswerRpc(res, format, who.status, who.status == 401 ? kGrpcUnauthenticated : kGrpcPermissionDenied, who.error);
    if (who.status == 401) res.AddHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return;
  }
  auto reject = [&](int status, int grpc, const std::string& why) {
    counters.requests_rejected++;
    AnswerRpc(res, format, status, grpc, why);
  };
  if (!protobuf && media != "application/json")
    return reject(415, kGrpcInvalidArgument,
                  "unsupported Content-Type '" + media + "': send application/x-protobuf or application/json");
  const size_t limit = ctx.options.max_body_bytes;
  if (req.body_too_large) return reject(413, kGrpcResourceExhausted, TooLargeMessage(limit, "--max-body"));
  http::DecodedBody body = http::DecodeContent(std::move(req.body), req.headers.Get("Content-Encoding"), limit);
  counters.bytes_received += body.body.size();
  if (body.outcome == Outcome::kTooLarge) return reject(413, kGrpcResourceExhausted, TooLargeMessage(limit, "--max-body"));
  if (body.outcome == Outcome::kUnsupported) return reject(415, kGrpcInvalidArgument, body.error);
  if (body.outcome == Outcome::kMalformed) return reject(400, kGrpcInvalidArgument, body.error);
  // JSON: its tree, then the protobuf messages made from it.
  MemoryBudget::Lease lease = ctx.Reserve(body.body, !protobuf, 2);
  if (!lease.ok()) {
    counters.requests_failed++;
    return AnswerRpc(res, format, 503, kGrpcUnavailable, "the server is decoding too many requests at once: retry later");
  }

  const bool writes_anything = who.scope.AllowsEverything();
  auto batch = DecodeTraceRequest(body.body, format, in_progress, ctx.options.limits, writes_anything ? nullptr : &who.scope);
  body.body = std::string();
  if (!batch.ok()) return reject(400, kGrpcInvalidArgument, batch.status().message());
  const std::string run_token = http::AuthorizationCredentials(req, "Bearer");
  if (ctx.runner && !batch->jobs.empty() && run_token.rfind("run.", 0) == 0)
    ctx.runner->NoteTrace(run_token, trace::ToHex(batch->jobs.front().trace_id));
  int64_t accepted = batch->accepted, rejected = batch->rejected;
  std::string rejection = batch->rejection;
  std::vector<notify::Event> events;
  if (ctx.notifier && !in_progress) events = EventsFromJobs(batch->jobs);
  if (accepted > 0) {
    const int64_t t0 = ctx.env->MonotonicNanos();
    auto written = ctx.store->Write(std::move(*batch), who.scope);
    counters.commit_wait_micros += static_cast<uint64_t>((ctx.env->MonotonicNanos() - t0) / 1000);
    if (!written.ok()) {
      // The client retries on 503: nothing of this request was stored.
      counters.requests_failed++;
      return AnswerRpc(res, format, HttpStatusForServerFailure(written.status()), kGrpcUnavailable,
                       "the store could not save the spans: " + written.status().message());
    }
    accepted -= written->rejected;
    rejected += written->rejected;
    if (rejection.empty()) rejection = written->rejection;
    // Queued, never waited for: a slow channel does not slow ingest.
    if (!written->rejected)
      for (auto& e : events) ctx.events->Publish(std::move(e));
  }
  counters.spans_rejected += static_cast<uint64_t>(rejected);
  if (rejected > 0) ctx.AuditOutcome(who, action, req, "denied", std::to_string(rejected) + " spans rejected; the first: " + rejection);
  if (accepted == 0 && rejected > 0) {
    // Nothing usable: a client error, not a partial success.
    return reject(400, kGrpcInvalidArgument, "all " + std::to_string(rejected) + " spans were rejected; the first: " + rejection);
  }
  counters.spans_accepted += static_cast<uint64_t>(accepted);
  (rejected ? counters.requests_partial : counters.requests_ok)++;
  res.Set(200, EncodeExportResponse(format, rejected, rejected ? rejection : ""),
          format == WireFormat::kJson ? "application/json" : "application/x-protobuf");
}

void HandleExternal(ServerContext& ctx, http::Request& req, http::Response& res, ExternalFormat format) {
  IngestCounters& counters = ctx.counters;
  auto fail = [&](int status, const std::string& message) {
    counters.requests_rejected++;
    AnswerJson(res, ApiError(status, message));
  };
  AccessDecision who = AdmitWriter(ctx, req, "ingest.external");
  if (who.status != 200) {
    counters.requests_rejected++;
    return AnswerRefusal(res, who);
  }
  const size_t limit = ExternalBodyLimit(ctx.options, format);
  if (req.body_too_large) return fail(413, TooLargeMessage(limit, nullptr));
  http::DecodedBody body = http::DecodeContent(std::move(req.body), req.headers.Get("Content-Encoding"), limit);
  counters.bytes_received += body.body.size();
  if (body.outcome == Outcome::kTooLarge) return fail(413, TooLargeMessage(limit, nullptr));
  if (body.outcome != Outcome::kOk) return fail(body.outcome == Outcome::kUnsupported ? 415 : 400, body.error);
  // Its tree, the spans made from it, and the batch those are encoded into.
  MemoryBudget::Lease lease = ctx.Reserve(body.body, true, 3);
  if (!lease.ok()) {
    counters.requests_failed++;
    return AnswerJson(res, ApiError(503, "the server is decoding too many requests at once: retry later"));
  }
  const int64_t now = ctx.env->NowUnixNanos();
  ParsedSpans parsed;
  if (format == ExternalFormat::kAzureMonitor) {
    auto alert = AzureAlertSpan(body.body, now);
    if (!alert.ok()) return fail(400, alert.status().message());
    parsed.spans.push_back(std::move(*alert));
  } else {
    auto spans = format == ExternalFormat::kAzureBackupJobs ? AzureBackupJobSpans(body.body, now) : JobEventSpans(body.body, now);
    if (!spans.ok()) return fail(400, spans.status().message());
    parsed = std::move(*spans);
  }
  // What the caller brings must be in its scope; what it would change is
  // checked by the store.
  const size_t brought = parsed.spans.size();
  std::erase_if(parsed.spans, [&](const ExternalSpan& es) {
    if (ScopeAllowsAttributes(who.scope, es.span.attributes)) return false;
    parsed.rejected.push_back("'" + es.span.name + "' is outside the scopes the caller may write");
    return true;
  });
  const size_t outside = brought - parsed.spans.size();
  ExternalOutcome outcome;
  if (!parsed.spans.empty()) {
    auto stored = ctx.external.Store(parsed.spans, who.scope);
    if (!stored.ok()) {
      // Azure Monitor retries on 503: nothing of this request was stored.
      counters.requests_failed++;
      return AnswerJson(res, ServerFailure(stored.status(), "the store could not save the events: "));
    }
    outcome = std::move(*stored);
  }
  size_t foreign = 0;
  for (const auto& why : outcome.rejected) {
    foreign += why.find("outside the scopes") != std::string::npos;
    parsed.rejected.push_back(why);
  }
  if (outside + foreign > 0)
    ctx.AuditOutcome(who, "ingest.external", req, "denied",
                     std::to_string(outside + foreign) + " items outside the caller's scope; the first: " + parsed.rejected[0]);
  nlohmann::json errors = nlohmann::json::array();
  for (size_t i = 0; i < parsed.rejected.size() && i < 20; ++i) errors.push_back(parsed.rejected[i]);
  counters.spans_rejected += parsed.rejected.size();
  if (outcome.stored + outcome.unchanged == 0) {
    counters.requests_rejected++;
    AnswerJson(res, {400, JsonText({{"error", parsed.rejected.empty() ? "nothing to store" : parsed.rejected[0]}, {"errors", errors}})});
    return;
  }
  counters.spans_accepted += static_cast<uint64_t>(outcome.stored);
  (parsed.rejected.empty() ? counters.requests_ok : counters.requests_partial)++;
  AnswerJson(res, {200, JsonText({{"stored", outcome.stored},
                              {"unchanged", outcome.unchanged},
                              {"rejected", parsed.rejected.size()},
                              {"errors", errors}})});
}

void HandleAcknowledge(ServerContext& ctx, http::Request& req, http::Response& res) {
  AccessDecision who = ctx.Admit(req, auth::kAcknowledge, "alerts.acknowledge", true);
  if (who.status != 200) return AnswerRefusal(res, who);
  const auto tid = trace::TraceIdFromHex(req.captures[0]);
  const auto sid = trace::SpanIdFromHex(req.captures[1]);
  if (req.body_too_large) return AnswerJson(res, ApiError(413, "the request body is larger than 1 MiB"));
  nlohmann::json body = nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (!tid || !sid || !body.is_object())
    return AnswerJson(res, ApiError(400, "ids must be hex (32 and 16 digits); the body, if any, a JSON object"));
  const std::string by = who.principal.name.empty() ? who.principal.subject : who.principal.name;
  const int64_t now = ctx.env->NowUnixNanos();
  trace::Attributes attrs, event_attrs;
  trace::SetAttribute(attrs, semconv::kAzureMonitorAlertAcknowledgedBy, by.empty() ? std::string("anonymous") : by);
  trace::SetAttribute(attrs, semconv::kAzureMonitorAlertAcknowledgedAt, FormatRfc3339(now));
  trace::SetAttribute(event_attrs, semconv::kEnduserId, who.principal.subject);
  if (body.contains("comment") && body["comment"].is_string())
    trace::SetAttribute(event_attrs, "message", body["comment"].get<std::string>().substr(0, 2048));
  auto done = ctx.external.AnnotateAlert(*tid, *sid, attrs, {"alert acknowledged", now, event_attrs}, who.scope);
  if (!done.ok()) return AnswerJson(res, ApiErrorFor(done.status()));
  if (!done->rejected.empty()) return AnswerJson(res, ApiError(404, "no such alert"));
  AnswerJson(res, {200, JsonText({{"acknowledged", true}, {"by", by}})});
}

void HandleHeartbeat(ServerContext& ctx, http::Request& req, http::Response& res) {
  constexpr const char* kAction = "ingest.heartbeat";
  AccessDecision who = AdmitWriter(ctx, req, kAction);
  if (who.status != 200) return AnswerRefusal(res, who);
  constexpr size_t kLimit = 1 << 20;
  if (req.body_too_large) return AnswerJson(res, ApiError(413, TooLargeMessage(kLimit, nullptr)));
  http::DecodedBody body = http::DecodeContent(std::move(req.body), req.headers.Get("Content-Encoding"), kLimit);
  if (body.outcome == Outcome::kTooLarge) return AnswerJson(res, ApiError(413, TooLargeMessage(kLimit, nullptr)));
  if (body.outcome != Outcome::kOk) return AnswerJson(res, ApiError(body.outcome == Outcome::kUnsupported ? 415 : 400, body.error));
  auto parsed = ParseHeartbeat(body.body, who.scope, ctx.env->NowUnixNanos());
  if (!parsed.ok()) return AnswerJson(res, ApiError(400, parsed.status().message()));
  // What the heartbeat replaces must be the caller's too: an agent's policies
  // in a group the caller cannot write are not the caller's to drop.
  auto stored = ctx.store->Agents(Scope::All());
  if (!stored.ok()) return AnswerJson(res, ServerFailure(stored.status(), "the store could not be read: "));
  for (DeclaredPolicy& p : parsed->agent.policies) p.first_declared_ns = parsed->agent.received_ns;
  for (const AgentRecord& old : *stored) {
    if (old.name != parsed->agent.name) continue;
    for (DeclaredPolicy& p : parsed->agent.policies)
      for (const DeclaredPolicy& was : old.policies)
        if (was.source_key == p.source_key && was.first_declared_ns) p.first_declared_ns = was.first_declared_ns;
    for (const DeclaredPolicy& p : old.policies)
      if (!who.scope.Allows(p.resource_group, p.tags, false)) {
        ctx.AuditOutcome(who, kAction, req, "denied", "agent '" + old.name + "' has policies outside the caller's scope");
        return AnswerJson(res, ApiError(403, "agent '" + old.name + "' has policies in resource group '" +
                                                 p.resource_group + "', which this caller may not write"));
      }
  }
  const size_t rejected = parsed->rejected.size();
  if (rejected) ctx.AuditOutcome(who, kAction, req, "denied", std::to_string(rejected) + " policies rejected; the first: " + parsed->rejected[0]);
  if (parsed->agent.policies.empty() && rejected)
    return AnswerJson(res, {400, JsonText({{"error", parsed->rejected[0]}, {"errors", parsed->rejected}})});
  IngestBatch batch;
  const size_t accepted = parsed->agent.policies.size();
  batch.agents.push_back(std::move(parsed->agent));
  auto written = ctx.store->Write(std::move(batch), who.scope);
  if (!written.ok()) return AnswerJson(res, ServerFailure(written.status(), "the store could not save the heartbeat: "));
  AnswerJson(res, {200, JsonText({{"accepted", accepted}, {"rejected", rejected}, {"errors", parsed->rejected}})});
}

void HandleAgentRequests(ServerContext& ctx, http::Request& req, http::Response& res) {
  AccessDecision who = AdmitWriter(ctx, req, "agents.requests");
  if (who.status != 200) return AnswerRefusal(res, who);
  const std::string agent = req.captures[0];
  int64_t wait_ms = 25'000;
  if (const std::string w = req.Param("wait"); !w.empty()) {
    auto ns = ParseDuration(w);
    if (!ns) return AnswerJson(res, ApiError(400, "wait must be a duration such as 25s"));
    wait_ms = std::clamp<int64_t>(*ns / 1'000'000, 0, 55'000);
  }
  // The requests for policies the caller may write: an agent's credential
  // fetches its own resource groups' requests, not another's.
  auto agents = ctx.store->Agents(Scope::All());
  if (!agents.ok()) return AnswerJson(res, ServerFailure(agents.status(), "the store could not be read: "));
  std::vector<DeclaredPolicy> policies;
  for (const AgentRecord& a : *agents)
    if (a.name == agent) policies = a.policies;
  const Scope scope = who.scope;
  auto taken = ctx.agent_requests->Take(agent, wait_ms, [&](const std::string& policy) {
    for (const DeclaredPolicy& p : policies)
      if (p.name == policy) return scope.Allows(p.resource_group, p.tags, false);
    return false;
  });
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : taken) list.push_back(nlohmann::json::parse(r.ToJson()));
  AnswerJson(res, {200, JsonText({{"requests", list}})});
}

ApiResponse RunNow(ServerContext& ctx, const std::string& agent, const std::string& policy, const std::string& action,
                   const std::string& body, const AccessDecision& who) {
  std::string snapshot = "latest", target;
  if (action == "restore") {
    const nlohmann::json j = body.empty() ? nlohmann::json::object() : nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object()) return ApiError(400, "the body must be a JSON object: {\"snapshot\": \"latest\", \"target\": \"dir\"}");
    const auto snapshot_field = StringField(j, "snapshot", "latest");
    const auto target_field = StringField(j, "target", "");
    if (!snapshot_field || !target_field) return ApiError(400, "snapshot and target must be strings");
    snapshot = *snapshot_field;
    target = *target_field;
    const bool hex = !snapshot.empty() && snapshot.size() <= 64 &&
                     std::all_of(snapshot.begin(), snapshot.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
    if (snapshot != "latest" && !hex) return ApiError(400, "snapshot must be \"latest\" or a snapshot id");
    if (target.empty()) target = "restore-" + FormatUtc(ctx.env->NowUnixNanos(), "%Y%m%dT%H%M%SZ");
    // A new directory below the policy's restore root, never outside it.
    const bool safe = target.size() <= 128 && target.find("..") == std::string::npos && target[0] != '.' &&
                      std::all_of(target.begin(), target.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
                      });
    if (!safe) return ApiError(400, "target must be a plain directory name (letters, digits, '-', '_', '.')");
  }
  auto agents = ctx.store->Agents(Scope::All());
  if (!agents.ok()) return ServerFailure(agents.status(), "the store could not be read: ");
  for (const AgentRecord& a : *agents) {
    if (a.name != agent) continue;
    for (const DeclaredPolicy& p : a.policies) {
      if (p.name != policy) continue;
      // Outside the caller's scope it does not exist for them.
      if (!who.scope.Allows(p.resource_group, p.tags, false)) break;
      if (!p.error.empty()) return ApiError(409, "policy '" + policy + "' cannot run: " + p.error);
      if (action == "restore" && !p.restores)
        return ApiError(409, "agent '" + agent + "' has no restore_root for policy '" + policy + "': it restores nothing on request");
      const std::string by = who.principal.subject.empty() ? "anonymous" : who.principal.subject;
      AgentRunRequest r;
      r.agent = agent;
      r.policy = policy;
      r.action = action;
      r.requested_by = by;
      r.snapshot = snapshot;
      r.target = target;
      return {202, ctx.agent_requests->Add(std::move(r)).ToJson()};
    }
  }
  return ApiError(404, "no policy '" + policy + "' of agent '" + agent + "' in your scope");
}

}  // namespace backspan::observatory
