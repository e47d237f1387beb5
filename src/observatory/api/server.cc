#include "observatory/api/server.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "auth/access_policy.h"
#include "env/env.h"
#include "http/router.h"
#include "observatory/api/server_context.h"
#include "observatory/store/span_store.h"
#include "observatory/api/web_assets.h"
#include "observatory/forward/forwarder.h"
#include "trace/semconv.h"

namespace backspan::observatory {
namespace {

ApiRequest ToApi(const http::Request& req, const Scope& scope) {
  ApiRequest out;
  out.params = req.params;
  out.scope = scope;
  return out;
}

// The audit result of an answered request: a 403 or 404 (something outside
// the caller's scope, answered as if it did not exist) is a denial.
std::string AuditResult(const ApiResponse& out, std::string* why) {
  if (out.status < 400 && !out.out_of_scope) return "allowed";
  const nlohmann::json j = nlohmann::json::parse(out.body, nullptr, false);
  *why = j.is_object() && j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>() : out.body.substr(0, 200);
  return out.out_of_scope || out.status == 404 || out.status == 403 ? "denied" : "error";
}

}  // namespace

struct Server::Impl {
  ServerContext ctx;
  http::Router router;
  std::unique_ptr<http::Server> http;

  Impl(ServerOptions o, SpanStore* s, Env* e) : ctx(std::move(o), s, e) {}

  // A read of the API: allowed in the caller's scope, audited once with
  // its outcome.
  template <typename Handler>
  void Read(const http::Request& q, http::Response& r, const char* action, Handler&& handler) {
    AccessDecision who = ctx.Admit(q, auth::kRead, action, false);
    if (who.status != 200) return AnswerRefusal(r, who);
    ApiResponse out = handler(ToApi(q, who.scope));
    std::string why;
    const std::string result = AuditResult(out, &why);
    ctx.AuditOutcome(who, action, q, result == "error" ? "allowed" : result, why);
    AnswerJson(r, out);
  }

  // An operation (docs/api.md, "Operations"): allowed where the caller holds
  // `permission`; audited once, with its outcome: allowed, denied (outside
  // the caller's scope) or error (and why).
  template <typename Handler>
  void Operate(const http::Request& q, http::Response& r, const char* permission, const std::string& action,
               Handler&& handler) {
    AccessDecision who = ctx.Admit(q, permission, action, false);
    if (who.status != 200) return AnswerRefusal(r, who);
    ApiResponse out = q.body_too_large ? ApiError(413, "the request body is larger than 1 MiB") : handler(who);
    std::string why;
    const std::string result = AuditResult(out, &why);
    if (out.status == 202) {
      const nlohmann::json j = nlohmann::json::parse(out.body, nullptr, false);
      if (j.is_object() && j.contains("id") && j["id"].is_string()) why = "run " + j["id"].get<std::string>();
    }
    ctx.AuditOutcome(who, action, q, result, why);
    AnswerJson(r, out);
  }

  void ReadRoute(const char* pattern, const char* action, std::function<ApiResponse(const http::Request&, const ApiRequest&)> fn) {
    router.Get(pattern, [this, action, fn](http::Request& q, http::Response& r) {
      Read(q, r, action, [&](const ApiRequest& a) { return fn(q, a); });
    });
  }

  void IngestRoutes() {
    router.Post("/v1/traces", [this](http::Request& q, http::Response& r) { HandleOtlp(ctx, q, r, false); });
    router.Post("/v1/traces/in-progress", [this](http::Request& q, http::Response& r) { HandleOtlp(ctx, q, r, true); });
    router.Post("/api/v1/agents/heartbeat", [this](http::Request& q, http::Response& r) { HandleHeartbeat(ctx, q, r); });
    for (auto [path, format] : {std::pair{"/api/v1/ingest/azure-monitor", ExternalFormat::kAzureMonitor},
                                std::pair{"/api/v1/ingest/azure-backup-jobs", ExternalFormat::kAzureBackupJobs},
                                std::pair{"/api/v1/ingest/events", ExternalFormat::kJobEvents}})
      router.Post(path, [this, f = format](http::Request& q, http::Response& r) { HandleExternal(ctx, q, r, f); },
                  ExternalBodyLimit(ctx.options, format));
    router.Post("/api/v1/alerts/*/*/acknowledge", [this](http::Request& q, http::Response& r) { HandleAcknowledge(ctx, q, r); },
                kMaxOperationBody);
  }

  void ReadRoutes() {
    ReadRoute("/api/v1/jobs", "jobs.list", [this](const http::Request&, const ApiRequest& a) { return ctx.api.Jobs(a); });
    ReadRoute("/api/v1/traces/*", "traces.get", [this](const http::Request& q, const ApiRequest& a) {
      return ctx.api.Trace(q.captures[0], a, ctx.insight_api.TraceAnomalies(q.captures[0], a.scope));
    });
    ReadRoute("/api/v1/anomalies", "anomalies.list",
              [this](const http::Request&, const ApiRequest& a) { return ctx.insight_api.Anomalies(a); });
    ReadRoute("/api/v1/forecasts", "forecasts.get",
              [this](const http::Request&, const ApiRequest& a) { return ctx.insight_api.Forecasts(a); });
    router.Get("/api/v1/insight/features", [this](http::Request& q, http::Response& r) {
      std::string content_type;
      Read(q, r, "insight.features", [&](const ApiRequest& a) { return ctx.insight_api.Features(a, &content_type); });
      // Read answered it as JSON; a successful export is JSON lines or CSV.
      if (r.status == 200 && !content_type.empty()) r.content_type = content_type;
    });
    ReadRoute("/api/v1/trends", "trends.get", [this](const http::Request&, const ApiRequest& a) { return ctx.api.Trends(a); });
    ReadRoute("/api/v1/freshness", "freshness.get",
              [this](const http::Request&, const ApiRequest& a) { return ctx.api.Freshness(a); });
    ReadRoute("/api/v1/agents", "agents.list", [this](const http::Request&, const ApiRequest& a) { return ctx.api.Agents(a); });
    ReadRoute("/api/v1/tags", "tags.list", [this](const http::Request&, const ApiRequest& a) { return ctx.api.Tags(a); });
    ReadRoute("/api/v1/plans", "plans.list", [this](const http::Request&, const ApiRequest& a) { return ctx.ops->Plans(a.scope); });
    ReadRoute("/api/v1/runs", "runs.list", [this](const http::Request&, const ApiRequest& a) { return ctx.ops->Runs(a.scope); });
    ReadRoute("/api/v1/runs/*", "runs.get",
              [this](const http::Request& q, const ApiRequest& a) { return ctx.ops->Run(q.captures[0], a.scope); });
    router.Get("/metrics", [this](http::Request& q, http::Response& r) {
      AccessDecision who = ctx.Admit(q, auth::kRead, "metrics.get", true);
      if (who.status != 200) return AnswerRefusal(r, who);
      Metrics(r, who.scope);
    });
  }

  void OperationRoutes() {
    for (const char* command : {"backup", "restore", "forget"}) {
      const bool forget = std::string(command) == "forget";
      router.Post(std::string("/api/v1/plans/*/") + command, [this, command, forget](http::Request& q, http::Response& r) {
        Operate(q, r, forget ? auth::kForget : auth::kTrigger, forget ? "snapshots.forget" : std::string("jobs.") + command,
                [&](const AccessDecision& who) {
                  return ctx.ops->Trigger(q.captures[0], command, q.body, who.scope, who.principal.subject);
                });
      }, kMaxOperationBody);
    }
    for (const char* action : {"backup", "restore"})
      router.Post(std::string("/api/v1/agents/*/policies/*/") + action, [this, action](http::Request& q, http::Response& r) {
        Operate(q, r, auth::kTrigger, std::string("jobs.") + action, [&](const AccessDecision& who) {
          return RunNow(ctx, q.captures[0], q.captures[1], action, q.body, who);
        });
      }, kMaxOperationBody);
    router.Get("/api/v1/agents/*/requests", [this](http::Request& q, http::Response& r) { HandleAgentRequests(ctx, q, r); });
    router.Put("/api/v1/plans/*/retention", [this](http::Request& q, http::Response& r) {
      Operate(q, r, auth::kPolicies, "policies.write",
              [&](const AccessDecision& who) { return ctx.ops->SetRetention(q.captures[0], q.body, who.scope); });
    }, kMaxOperationBody);
    router.Get("/api/v1/access", [this](http::Request& q, http::Response& r) {
      Operate(q, r, auth::kRoles, "roles.read", [&](const AccessDecision& who) { return ctx.ops->GetAccess(who.scope); });
    });
    router.Put("/api/v1/access", [this](http::Request& q, http::Response& r) {
      Operate(q, r, auth::kRoles, "roles.write", [&](const AccessDecision& who) { return ctx.ops->PutAccess(q.body, who.scope); });
    }, kMaxOperationBody);
    router.Get("/api/v1/audit", [this](http::Request& q, http::Response& r) {
      Operate(q, r, auth::kAudit, "audit.list", [&](const AccessDecision& who) { return ctx.ops->Audit(ToApi(q, who.scope)); });
    });
  }

  // Health and the UI's files: answered on the event loop, so they stay
  // fast however busy the workers are.
  void StaticRoutes() {
    router.Get("/healthz", [](http::Request&, http::Response& r) { r.Set(200, "ok\n", "text/plain"); },
               http::RunOn::kEventLoop);
    router.Get("/readyz", [this](http::Request&, http::Response& r) {
      Status s = ctx.store->CheckReadable();
      if (s.ok()) return r.Set(200, "ready\n", "text/plain");
      r.Set(503, "not ready: " + s.message() + "\n", "text/plain");
    });
    auto asset = [](const std::string& path, http::Response& r) {
      const WebAsset* a = FindWebAsset(path);
      if (!a) return r.Set(404, "not found\n", "text/plain");
      r.Set(200, std::string(a->data), a->content_type);
      r.AddHeader("Cache-Control", "no-cache");
    };
    for (const char* index : {"/", "/index.html"})
      router.Get(index, [asset](http::Request&, http::Response& r) { asset("index.html", r); }, http::RunOn::kEventLoop);
    router.Get("/assets/*", [asset](http::Request& q, http::Response& r) { asset("assets/" + q.captures[0], r); },
               http::RunOn::kEventLoop);
  }

  // Scoped: a caller restricted to some resource groups sees the sources,
  // jobs and counts there; the server's own counters and the store's size
  // only a caller who may read everything.
  void Metrics(http::Response& res, const Scope& scope) {
    MetricsInput in;
    auto sources = ctx.store->Sources(scope);
    auto counts = ctx.store->JobCounts(scope);
    auto stats = ctx.store->Stats(scope);
    auto agents = ctx.store->Agents(scope);
    if (!sources.ok() || !counts.ok() || !stats.ok() || !agents.ok()) {
      const Status& s = !sources.ok() ? sources.status() : !counts.ok() ? counts.status() : !stats.ok() ? stats.status() : agents.status();
      res.Set(HttpStatusForServerFailure(s), "# the store could not be read: " + s.message() + "\n", "text/plain");
      return;
    }
    in.sources = std::move(*sources);
    in.agents = std::move(*agents);
    in.job_counts = std::move(*counts);
    in.stats = *stats;
    in.server_wide = scope.unrestricted;
    in.ingest = &ctx.counters;
    if (http) in.http = http->stats();
    in.now_ns = ctx.env->NowUnixNanos();
    in.default_stale_ns = ctx.options.default_stale_ns;
    in.process_start_seconds = ctx.start_seconds;
    in.leader = ctx.store->Leads();
    if (ctx.notifier && scope.unrestricted) {
      const auto st = ctx.notifier->stats();
      in.notify = NotifyCounters{st.events, st.dropped, st.notifications, st.delivered, st.failed, st.open_incidents};
    }
    if (ctx.options.forward && scope.unrestricted)
      for (const ForwardStats& f : ctx.options.forward->stats())
        in.forward.push_back({f.destination, f.sent, f.rejected, f.failed, f.dropped, f.retries, f.queued, f.queued_bytes});
    ctx.insight_api.AddMetrics(scope, in.now_ns, in);
    res.Set(200, RenderMetrics(in), "text/plain; version=0.0.4; charset=utf-8");
  }
};

namespace {

// The source `key` names, as the freshness board shows it.
std::optional<SourceState> SourceOf(ServerContext& ctx, const std::string& key) {
  auto sources = ctx.store->Sources(Scope::All());
  if (sources.ok())
    for (auto& s : *sources)
      if (s.key == key) return std::move(s);
  return std::nullopt;
}

}  // namespace

Server::Server(ServerOptions options, SpanStore* store, Env* env)
    : impl_(std::make_unique<Impl>(std::move(options), store, env)) {
  ServerContext& ctx = impl_->ctx;
  ctx.start_seconds = static_cast<double>(env->NowUnixNanos()) / 1e9;
  impl_->IngestRoutes();
  impl_->ReadRoutes();
  impl_->OperationRoutes();
  impl_->StaticRoutes();
  http::ServerLimits limits = ctx.options.http;
  limits.parser.max_body_bytes = ctx.options.max_body_bytes;
  impl_->http = std::make_unique<http::Server>(limits, &impl_->router);
  ctx.http = impl_->http.get();
  if (AccessControl* ac = ctx.options.access) {
    ctx.audit_spans = std::make_unique<AuditSpanWriter>(&ctx.external);
    AuditSpanWriter* writer = ctx.audit_spans.get();
    ac->OnRecord([writer](const audit::AuditRecord& r) { writer->Push(r); });
  }
  if (SharedState* shared = store->Shared()) ctx.anomaly_mirror = std::make_unique<AnomalyMirror>(ctx.insight.get(), shared);
  if (const notify::NotifyConfig* nc = ctx.options.notify) {
    ExternalSpanWriter* spans = &ctx.external;
    ctx.notifier = std::make_unique<notify::Notifier>(*nc, env, ctx.options.notify_state_path,
                                                      [spans](const notify::Delivery& d) { RecordDelivery(spans, d); });
    // The channels were checked when the file was read.
    if (Status s = ctx.notifier->Open(); !s.ok()) std::fprintf(stderr, "notifications: %s\n", s.message().c_str());
    ctx.events = ctx.notifier.get();
    if (store->Shared()) {
      ctx.relay = std::make_unique<NotificationRelay>(ctx.notifier.get(), store);
      ctx.events = ctx.relay.get();
    }
    ctx.watcher = std::make_unique<ExpectationWatcher>(store, ctx.events, env, nc->check_interval_seconds,
                                                       ctx.options.default_stale_ns);
    // Only the leader's insight judges, and tells of what it finds.
    ctx.insight->OnOverrunForecast(
        [&ctx](const std::string& key, const insight::JobPoint& newest, const insight::OverrunForecast& f) {
          if (!ctx.store->Leads()) return;
          const auto source = SourceOf(ctx, key);
          ctx.events->Publish(EventFromOverrunForecast(key, newest, f, source ? &*source : nullptr));
        });
  }
  // A new anomaly on a source's latest jobs is news of its own, and a span
  // to send on.
  if (ctx.notifier || ctx.options.forward) {
    ctx.insight->OnAnomaly([&ctx](const insight::AnomalyRecord& r) {
      const auto source = SourceOf(ctx, r.source_key);
      if (!ctx.store->Leads()) return;  // the leader tells, and sends it on
      if (ctx.events) ctx.events->Publish(EventFromAnomaly(r, source ? &*source : nullptr));
      if (ctx.options.forward) {
        trace::Resource resource;
        trace::SetAttribute(resource.attributes, semconv::kServiceName, std::string("backspan-observatory"));
        ctx.options.forward->Forward(resource, {AnomalySpan(r, source ? &*source : nullptr, ctx.env->NowUnixNanos())});
      }
    });
  }
}

Server::~Server() {
  // Insight's thread may notify: it stops before the notifier goes.
  impl_->ctx.insight->Stop();
}

Status Server::Bind() {
  ServerContext& ctx = impl_->ctx;
  RETURN_IF_ERROR(impl_->http->Listen(ctx.options.host, ctx.options.port));
  if (ctx.options.plans) {
    // Runs export to this server over loopback when it listens on every address.
    std::string host = ctx.options.host;
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    else if (host == "::") host = "::1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    ctx.runner = std::make_unique<JobRunner>(ctx.options.program, "http://" + host + ":" + std::to_string(port()), ctx.env);
    if (SharedState* shared = ctx.store->Shared()) {
      ctx.shared_runs = std::make_unique<SharedRuns>(shared, ctx.env);
      ctx.runner->SetLedger(ctx.shared_runs.get());
    }
  }
  ctx.ops = std::make_unique<OperationsApi>(ctx.options.plans, ctx.runner.get(), ctx.options.access, ctx.env);
  ctx.insight->Start();
  return Status::Ok();
}

void Server::Run() { impl_->http->Run(); }
void Server::Stop() {
  impl_->ctx.agent_requests->Close();  // agents' long polls answer now, not after their wait
  impl_->http->Stop();
}
int Server::port() const { return impl_->http->port(); }

}  // namespace backspan::observatory
