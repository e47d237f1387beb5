#include "observatory/server.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "crypto/crypto.h"
#include "env/env.h"
#include "observatory/access_control.h"
#include "observatory/api.h"
#include "observatory/audit_spans.h"
#include "observatory/azure_ingest.h"
#include "observatory/external_ingest.h"
#include "observatory/job_events.h"
#include "observatory/job_runner.h"
#include "observatory/operations_api.h"
#include "observatory/metrics.h"
#include "observatory/span_store.h"
#include "observatory/web_assets.h"
#include "util/text.h"
#include "util/time_format.h"

namespace backspan::observatory {
namespace {

// gRPC status codes for google.rpc.Status bodies.
constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcResourceExhausted = 8;
constexpr int kGrpcUnavailable = 14;
constexpr int kGrpcPermissionDenied = 7;
constexpr int kGrpcUnauthenticated = 16;

// The media type without parameters ("application/json; charset=utf-8").
std::string MediaType(const httplib::Request& req) {
  std::string ct = AsciiLower(req.get_header_value("Content-Type"));
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  return ct;
}

enum class BodyRead { kOk, kTooLarge, kUnreadable };

// Reads the body through its content reader, after cpp-httplib has undone
// any Content-Encoding (gzip, deflate, br), so the inflated size can be
// bounded as it grows: a small compressed bomb stops at `limit`.
BodyRead ReadBody(const httplib::Request& req, const httplib::ContentReader& reader, size_t limit, std::string* body) {
  if (std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) > limit) return BodyRead::kTooLarge;
  bool too_large = false;
  const bool read = reader([&](const char* data, size_t n) {
    if (body->size() + n > limit) {
      too_large = true;
      return false;
    }
    body->append(data, n);
    return true;
  });
  if (too_large) return BodyRead::kTooLarge;
  return read ? BodyRead::kOk : BodyRead::kUnreadable;
}

std::string TooLargeMessage(size_t limit, const char* flag) {
  return "the request body, decompressed, is larger than the limit of " + std::to_string(limit) + " bytes" +
         (flag ? std::string(" (") + flag + ")" : std::string());
}

std::string UnreadableMessage(const httplib::Request& req) {
  return "the body could not be read: truncated, or not valid " + req.get_header_value("Content-Encoding");
}

// What each external ingest endpoint reads, and how much of it.
enum class ExternalFormat { kAzureMonitor, kAzureBackupJobs, kJobEvents };

}  // namespace

struct Server::Impl {
  ServerOptions options;
  SpanStore* store;
  Env* env;
  Api api;
  IngestCounters counters;
  ExternalIngest external;
  std::unique_ptr<AuditSpanWriter> audit_spans;  // with access control: the audit log, as spans
  std::unique_ptr<JobRunner> runner;             // with plans: runs their jobs (made in Bind: it needs the port)
  std::unique_ptr<OperationsApi> ops;
  httplib::Server http;
  int bound_port = 0;
  double start_seconds = 0;

  Impl(ServerOptions o, SpanStore* s, Env* e)
      : options(std::move(o)), store(s), env(e), api(s, e, options.default_stale_ns), external(s, e) {}

  void Answer(httplib::Response& res, WireFormat f, int http_status, int grpc_code, const std::string& message) {
    res.status = http_status;
    res.set_content(EncodeRpcStatus(f, grpc_code, message),
                    f == WireFormat::kJson ? "application/json" : "application/x-protobuf");
  }

  // The bearer token of a job this server runs ("run.…"), or "".
  static std::string RunToken(const httplib::Request& req) {
    const std::string header = req.get_header_value("Authorization");
    return header.rfind("Bearer run.", 0) == 0 ? header.substr(7) : std::string();
  }

  // Checks the caller for `permission` when access control is on; answers
  // 401 or 403 (JSON, or OTLP's google.rpc.Status for OTLP routes) if not.
  bool Allowed(const httplib::Request& req, httplib::Response& res, const char* permission, const std::string& action,
               AccessDecision* who, const WireFormat* otlp = nullptr, bool audit_allowed = true) {
    // A job this server runs exports its own trace, in its plan's scope only.
    if (permission == auth::kIngest && runner && !RunToken(req).empty())
      if (auto scope = runner->IngestScope(RunToken(req))) {
        who->scope = *scope;
        who->principal.subject = "backspan-run";
        return true;
      }
    if (!options.access) {
      who->scope = Scope::All();
      return true;
    }
    *who = options.access->Check(req.get_header_value("Authorization"), permission, action, req.path, req.remote_addr,
                                 audit_allowed);
    if (who->status == 200) return true;
    counters.requests_rejected++;
    if (who->status == 401) res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    if (otlp) return Answer(res, *otlp, who->status, who->status == 401 ? kGrpcUnauthenticated : kGrpcPermissionDenied, who->error), false;
    Reply(res, ApiError(who->status, who->error));
    return false;
  }

  void Ingest(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
              bool in_progress) {
    const std::string media = MediaType(req);
    WireFormat format;
    if (media == "application/x-protobuf" || media == "application/protobuf") format = WireFormat::kProtobuf;
    else if (media == "application/json") format = WireFormat::kJson;
    else {
      counters.requests_rejected++;
      return Answer(res, WireFormat::kJson, 415, kGrpcInvalidArgument,
                    "unsupported Content-Type '" + media + "': send application/x-protobuf or application/json");
    }
    AccessDecision who;
    if (!Allowed(req, res, auth::kIngest, in_progress ? "ingest.otlp.in_progress" : "ingest.otlp", &who, &format)) return;
    std::string body;
    const BodyRead got = ReadBody(req, reader, options.max_body_bytes, &body);
    counters.bytes_received += body.size();
    if (got != BodyRead::kOk) {
      counters.requests_rejected++;
      return got == BodyRead::kTooLarge
                 ? Answer(res, format, 413, kGrpcResourceExhausted, TooLargeMessage(options.max_body_bytes, "--max-body"))
                 : Answer(res, format, 400, kGrpcInvalidArgument, UnreadableMessage(req));
    }
    auto batch = DecodeTraceRequest(body, format, in_progress, options.limits, who.scope.unrestricted ? nullptr : &who.scope);
    if (!batch.ok()) {
      counters.requests_rejected++;
      return Answer(res, format, 400, kGrpcInvalidArgument, batch.status().message());
    }
    if (runner && !batch->jobs.empty() && !RunToken(req).empty())
      runner->NoteTrace(RunToken(req), trace::ToHex(batch->jobs.front().trace_id));
    const int64_t accepted = batch->accepted, rejected = batch->rejected;
    const std::string rejection = batch->rejection;
    counters.spans_rejected += static_cast<uint64_t>(rejected);
    if (options.access && rejected > 0)
      options.access->Audit(who, "ingest.otlp", req.path, req.remote_addr, "denied",
                            std::to_string(rejected) + " spans rejected; the first: " + rejection);
    if (accepted == 0 && rejected > 0) {
      // Nothing usable: a client error, not a partial success.
      counters.requests_rejected++;
      return Answer(res, format, 400, kGrpcInvalidArgument,
                    "all " + std::to_string(rejected) + " spans were rejected; the first: " + rejection);
    }
    const int64_t t0 = env->MonotonicNanos();
    Status st = store->Write(std::move(*batch));
    counters.commit_wait_micros += static_cast<uint64_t>((env->MonotonicNanos() - t0) / 1000);
    if (!st.ok()) {
      // The client retries on 503: nothing of this request was stored.
      counters.requests_failed++;
      res.set_header("Retry-After", "5");
      return Answer(res, format, 503, kGrpcUnavailable, "the store could not save the spans: " + st.message());
    }
    counters.spans_accepted += static_cast<uint64_t>(accepted);
    (rejected ? counters.requests_partial : counters.requests_ok)++;
    res.status = 200;
    res.set_content(EncodeExportResponse(format, rejected, rejected ? rejection : ""),
                    format == WireFormat::kJson ? "application/json" : "application/x-protobuf");
  }

  // Backup events from other systems (docs/api.md, "Ingesting other
  // systems' backups"): parse, merge with what is stored, answer in JSON.
  void IngestExternal(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
                      ExternalFormat format) {
    auto fail = [&](int status, const std::string& message) {
      counters.requests_rejected++;
      Reply(res, ApiError(status, message));
    };
    AccessDecision who;
    if (options.access) {
      if (!Allowed(req, res, auth::kIngest, "ingest.external", &who)) return;
    } else if (!options.ingest_token.empty()) {
      std::string given = req.get_param_value("token");
      const std::string auth = req.get_header_value("Authorization");
      if (given.empty() && auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
      if (given.empty()) return fail(401, "this endpoint needs the ingest token: ?token=... or Authorization: Bearer ...");
      if (!crypto::SecretEquals(given, options.ingest_token)) return fail(401, "the ingest token is wrong");
    }
    const size_t limit = format == ExternalFormat::kAzureMonitor ? kMaxAlertBytes
                         : format == ExternalFormat::kJobEvents  ? std::min<size_t>(options.max_body_bytes, 1 << 20)
                                                                  : options.max_body_bytes;
    std::string body;
    const BodyRead got = ReadBody(req, reader, limit, &body);
    counters.bytes_received += body.size();
    if (got == BodyRead::kTooLarge) return fail(413, TooLargeMessage(limit, nullptr));
    if (got == BodyRead::kUnreadable) return fail(400, UnreadableMessage(req));
    const int64_t now = env->NowUnixNanos();
    ParsedSpans parsed;
    if (format == ExternalFormat::kAzureMonitor) {
      auto alert = AzureAlertSpan(body, now);
      if (!alert.ok()) return fail(400, alert.status().message());
      parsed.spans.push_back(std::move(*alert));
    } else {
      auto spans = format == ExternalFormat::kAzureBackupJobs ? AzureBackupJobSpans(body, now) : JobEventSpans(body, now);
      if (!spans.ok()) return fail(400, spans.status().message());
      parsed = std::move(*spans);
    }
    if (options.access && !who.scope.unrestricted) {
      // Only what the caller may write: the rest is rejected, and audited.
      std::vector<ExternalSpan> allowed;
      for (auto& es : parsed.spans) {
        if (ScopeAllowsAttributes(who.scope, es.span.attributes)) allowed.push_back(std::move(es));
        else parsed.rejected.push_back("'" + es.span.name + "' is outside the scopes the caller may write");
      }
      if (allowed.size() < parsed.spans.size())
        options.access->Audit(who, "ingest.external", req.path, req.remote_addr, "denied",
                              std::to_string(parsed.spans.size() - allowed.size()) + " items outside the caller's scope");
      parsed.spans = std::move(allowed);
    }
    nlohmann::json errors = nlohmann::json::array();
    for (size_t i = 0; i < parsed.rejected.size() && i < 20; ++i) errors.push_back(parsed.rejected[i]);
    counters.spans_rejected += parsed.rejected.size();
    if (parsed.spans.empty()) {
      counters.requests_rejected++;
      res.status = 400;
      return res.set_content(
          nlohmann::json({{"error", parsed.rejected.empty() ? "nothing to store" : parsed.rejected[0]}, {"errors", errors}})
              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
          "application/json");
    }
    auto outcome = external.Store(parsed.spans);
    if (!outcome.ok()) {
      // Azure Monitor retries on 503: nothing of this request was stored.
      counters.requests_failed++;
      res.set_header("Retry-After", "5");
      return Reply(res, ApiError(503, "the store could not save the events: " + outcome.status().message()));
    }
    counters.spans_accepted += static_cast<uint64_t>(outcome->stored);
    (parsed.rejected.empty() ? counters.requests_ok : counters.requests_partial)++;
    Reply(res, {200, nlohmann::json({{"stored", outcome->stored},
                                     {"unchanged", outcome->unchanged},
                                     {"rejected", parsed.rejected.size()},
                                     {"errors", errors}})
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
  }

  // An operator takes ownership of an alert: who and when go on its span.
  void Acknowledge(const httplib::Request& q, httplib::Response& r) {
    AccessDecision who;
    if (!Allowed(q, r, auth::kAcknowledge, "alerts.acknowledge", &who)) return;
    const auto tid = trace::TraceIdFromHex(q.matches[1].str());
    const auto sid = trace::SpanIdFromHex(q.matches[2].str());
    nlohmann::json body = nlohmann::json::parse(q.body.empty() ? "{}" : q.body, nullptr, false);
    if (!tid || !sid || !body.is_object()) return Reply(r, ApiError(400, "ids must be hex; the body, if any, a JSON object"));
    const std::string by = who.principal.name.empty() ? who.principal.subject : who.principal.name;
    const int64_t now = env->NowUnixNanos();
    trace::Attributes attrs, event_attrs;
    trace::SetAttribute(attrs, "azure.monitor.alert.acknowledged_by", by.empty() ? std::string("anonymous") : by);
    trace::SetAttribute(attrs, "azure.monitor.alert.acknowledged_at", FormatRfc3339(now));
    trace::SetAttribute(event_attrs, "enduser.id", who.principal.subject);
    if (body.contains("comment") && body["comment"].is_string())
      trace::SetAttribute(event_attrs, "message", body["comment"].get<std::string>().substr(0, 2048));
    auto done = external.AnnotateAlert(*tid, *sid, attrs, {"alert acknowledged", now, event_attrs}, who.scope);
    if (!done.ok()) return Reply(r, ApiError(done.status().code() == ErrorCode::kNotFound ? 404 : 503, done.status().message()));
    Reply(r, {200, nlohmann::json({{"acknowledged", true}, {"by", by}}).dump()});
  }

  // An operation (docs/api.md, "Operations"): allowed where the caller holds
  // `permission`; audited once, with its outcome: allowed, denied (outside
  // the caller's scope) or error (and why).
  template <typename Handler>
  void Operate(const httplib::Request& q, httplib::Response& r, const char* permission, const std::string& action,
               Handler&& handler) {
    AccessDecision who;
    if (!Allowed(q, r, permission, action, &who, nullptr, false)) return;
    ApiResponse out = q.body.size() > (1u << 20) ? ApiError(413, "the request body is larger than 1 MiB") : handler(who);
    if (options.access) {
      std::string result = "allowed", why;
      if (out.status >= 400) {
        const nlohmann::json j = nlohmann::json::parse(out.body, nullptr, false);
        why = j.is_object() && j.contains("error") ? j["error"].get<std::string>() : out.body;
        result = out.status == 404 || out.status == 403 ? "denied" : "error";
      } else if (out.status == 202) {
        const nlohmann::json j = nlohmann::json::parse(out.body, nullptr, false);
        if (j.is_object() && j.contains("id")) why = "run " + j["id"].get<std::string>();
      }
      options.access->Audit(who, action, q.path, q.remote_addr, result, why);
    }
    Reply(r, out);
  }

  void OperationRoutes() {
    http.Get("/api/v1/plans", [this](const httplib::Request& q, httplib::Response& r) {
      Read(q, r, "plans.list", [&](const ApiRequest& a) { return ops->Plans(a.scope); });
    });
    http.Post(R"(/api/v1/plans/([A-Za-z0-9._-]+)/(backup|restore|forget))",
              [this](const httplib::Request& q, httplib::Response& r) {
                const std::string command = q.matches[2];
                const bool forget = command == "forget";
                Operate(q, r, forget ? auth::kForget : auth::kTrigger, forget ? "snapshots.forget" : "jobs." + command,
                        [&](const AccessDecision& who) {
                          return ops->Trigger(q.matches[1], command, q.body, who.scope, who.principal.subject);
                        });
              });
    http.Put(R"(/api/v1/plans/([A-Za-z0-9._-]+)/retention)", [this](const httplib::Request& q, httplib::Response& r) {
      Operate(q, r, auth::kPolicies, "policies.write",
              [&](const AccessDecision& who) { return ops->SetRetention(q.matches[1], q.body, who.scope); });
    });
    http.Get("/api/v1/runs", [this](const httplib::Request& q, httplib::Response& r) {
      Read(q, r, "runs.list", [&](const ApiRequest& a) { return ops->Runs(a.scope); });
    });
    http.Get(R"(/api/v1/runs/([0-9a-f]{1,32}))", [this](const httplib::Request& q, httplib::Response& r) {
      Read(q, r, "runs.get", [&](const ApiRequest& a) { return ops->Run(q.matches[1], a.scope); });
    });
    http.Get("/api/v1/access", [this](const httplib::Request& q, httplib::Response& r) {
      Operate(q, r, auth::kRoles, "roles.read", [&](const AccessDecision& who) { return ops->GetAccess(who.scope); });
    });
    http.Put("/api/v1/access", [this](const httplib::Request& q, httplib::Response& r) {
      Operate(q, r, auth::kRoles, "roles.write",
              [&](const AccessDecision& who) { return ops->PutAccess(q.body, who.scope); });
    });
    http.Get("/api/v1/audit", [this](const httplib::Request& q, httplib::Response& r) {
      Operate(q, r, auth::kAudit, "audit.list", [&](const AccessDecision& who) { return ops->Audit(ToApi(q, who.scope)); });
    });
  }

  static ApiRequest ToApi(const httplib::Request& req, const Scope& scope) {
    ApiRequest out;
    for (const auto& [k, v] : req.params) out.params.emplace(k, v);
    out.scope = scope;
    return out;
  }

  // A read of the API: allowed in the caller's scope, audited.
  template <typename Handler>
  void Read(const httplib::Request& q, httplib::Response& r, const char* action, Handler&& handler) {
    AccessDecision who;
    if (!Allowed(q, r, auth::kRead, action, &who)) return;
    Reply(r, handler(ToApi(q, who.scope)));
  }

  static void Reply(httplib::Response& res, const ApiResponse& r) {
    res.status = r.status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(r.body, "application/json");
  }

  void Routes() {
    http.Post("/v1/traces", [this](const httplib::Request& q, httplib::Response& r, const httplib::ContentReader& c) {
      Ingest(q, r, c, false);
    });
    http.Post("/v1/traces/in-progress",
              [this](const httplib::Request& q, httplib::Response& r, const httplib::ContentReader& c) {
                Ingest(q, r, c, true);
              });
    for (auto [path, format] : {std::pair{"/api/v1/ingest/azure-monitor", ExternalFormat::kAzureMonitor},
                                std::pair{"/api/v1/ingest/azure-backup-jobs", ExternalFormat::kAzureBackupJobs},
                                std::pair{"/api/v1/ingest/events", ExternalFormat::kJobEvents}}) {
      http.Post(path, [this, format](const httplib::Request& q, httplib::Response& r, const httplib::ContentReader& c) {
        IngestExternal(q, r, c, format);
      });
    }
    http.Post(R"(/api/v1/alerts/([0-9a-fA-F]{32})/([0-9a-fA-F]{16})/acknowledge)",
              [this](const httplib::Request& q, httplib::Response& r) { Acknowledge(q, r); });
    http.Get("/api/v1/jobs", [this](const httplib::Request& q, httplib::Response& r) {
      Read(q, r, "jobs.list", [&](const ApiRequest& a) { return api.Jobs(a); });
    });
    http.Get(R"(/api/v1/traces/([^/]+))", [this](const httplib::Request& q, httplib::Response& r) {
      Read(q, r, "traces.get", [&](const ApiRequest& a) { return api.Trace(q.matches[1], a); });
    });
    http.Get("/api/v1/trends", [this](const httplib::Request& q, httplib::Response& r) {
      Read(q, r, "trends.get", [&](const ApiRequest& a) { return api.Trends(a); });
    });
    http.Get("/api/v1/freshness", [this](const httplib::Request& q, httplib::Response& r) {
      Read(q, r, "freshness.get", [&](const ApiRequest& a) { return api.Freshness(a); });
    });
    http.Get("/api/v1/tags", [this](const httplib::Request& q, httplib::Response& r) {
      Read(q, r, "tags.list", [&](const ApiRequest& a) { return api.Tags(a); });
    });
    http.Get("/metrics", [this](const httplib::Request& q, httplib::Response& r) {
      AccessDecision who;
      if (Allowed(q, r, auth::kRead, "metrics.get", &who)) Metrics(r, who.scope);
    });
    http.Get("/healthz", [](const httplib::Request&, httplib::Response& r) { r.set_content("ok\n", "text/plain"); });
    http.Get("/readyz", [this](const httplib::Request&, httplib::Response& r) {
      Status s = store->CheckReadable();
      if (s.ok()) return r.set_content("ready\n", "text/plain");
      r.status = 503;
      r.set_content("not ready: " + s.message() + "\n", "text/plain");
    });
    http.Get(R"(/(|index\.html|assets/[A-Za-z0-9._-]+))", [](const httplib::Request& q, httplib::Response& r) {
      std::string path = q.matches[1];
      const WebAsset* a = FindWebAsset(path.empty() ? "index.html" : path);
      if (!a) {
        r.status = 404;
        return r.set_content("not found\n", "text/plain");
      }
      r.set_header("Cache-Control", "no-cache");
      r.set_content(std::string(a->data), a->content_type);
    });
    http.set_error_handler([](const httplib::Request&, httplib::Response& r) {
      if (!r.body.empty()) return;
      const char* text = r.status == 413 ? "the request body is larger than the server accepts (--max-body)"
                         : r.status == 404 ? "no such endpoint"
                                           : "bad request: malformed HTTP, or a POST or PUT without Content-Length (send 0 for no body)";
      r.set_content(std::string("{\"error\":\"") + text + "\"}", "application/json");
    });
  }

  void Metrics(httplib::Response& res, const Scope& scope) {
    MetricsInput in;
    auto sources = store->Sources(scope);
    auto counts = store->JobCounts(scope);
    auto stats = store->Stats();
    if (!sources.ok() || !counts.ok() || !stats.ok()) {
      res.status = 500;
      return res.set_content("# the store could not be read\n", "text/plain");
    }
    in.sources = std::move(*sources);
    in.job_counts = std::move(*counts);
    in.stats = *stats;
    in.ingest = &counters;
    in.now_ns = env->NowUnixNanos();
    in.default_stale_ns = options.default_stale_ns;
    in.process_start_seconds = start_seconds;
    res.set_content(RenderMetrics(in), "text/plain; version=0.0.4; charset=utf-8");
  }
};

Server::Server(ServerOptions options, SpanStore* store, Env* env)
    : impl_(std::make_unique<Impl>(std::move(options), store, env)) {
  impl_->start_seconds = static_cast<double>(env->NowUnixNanos()) / 1e9;
  impl_->http.set_payload_max_length(impl_->options.max_body_bytes);
  impl_->http.set_keep_alive_max_count(10000);
  impl_->http.set_read_timeout(30, 0);
  // A response is written as headers, then body: without TCP_NODELAY the body
  // waits for the client's delayed ACK, 40 ms on Linux, on every keep-alive request.
  impl_->http.set_tcp_nodelay(true);
  const int threads = std::max(2, impl_->options.threads);
  impl_->http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  impl_->Routes();
  impl_->OperationRoutes();
  if (AccessControl* ac = impl_->options.access) {
    impl_->audit_spans = std::make_unique<AuditSpanWriter>(&impl_->external);
    AuditSpanWriter* writer = impl_->audit_spans.get();
    ac->OnRecord([writer](const audit::AuditRecord& r) { writer->Push(r); });
  }
}

Server::~Server() = default;

Status Server::Bind() {
  if (impl_->options.port == 0) {
    impl_->bound_port = impl_->http.bind_to_any_port(impl_->options.host);
    if (impl_->bound_port <= 0) return Status::IOError("cannot listen on " + impl_->options.host);
  } else {
    if (!impl_->http.bind_to_port(impl_->options.host, impl_->options.port))
      return Status::IOError("cannot listen on " + impl_->options.host + ":" + std::to_string(impl_->options.port) +
                             " (in use, or not an address of this machine)");
    impl_->bound_port = impl_->options.port;
  }
  if (impl_->options.plans) {
    // Runs export to this server over loopback when it listens on every address.
    std::string host = impl_->options.host;
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    else if (host == "::") host = "::1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    impl_->runner = std::make_unique<JobRunner>(impl_->options.program,
                                                "http://" + host + ":" + std::to_string(impl_->bound_port), impl_->env);
  }
  impl_->ops = std::make_unique<OperationsApi>(impl_->options.plans, impl_->runner.get(), impl_->options.access, impl_->env);
  return Status::Ok();
}

void Server::Run() { impl_->http.listen_after_bind(); }
void Server::Stop() { impl_->http.stop(); }
int Server::port() const { return impl_->bound_port; }

}  // namespace backspan::observatory
