// `backspan serve`: the observatory in one process.
#include <malloc.h>
#include <signal.h>

#include <cctype>
#include <cstdio>
#include <optional>
#include <cstdlib>
#include <atomic>
#include <chrono>
#include <thread>

#include "cli/commands.h"
#include "cli/json_output.h"
#include "cli/telemetry.h"
#include "env/env.h"
#include "storage/postgres.h"
#include "auth/oidc.h"
#include "observatory/access/access_control.h"
#include "notify/notify_config.h"
#include "observatory/ops/plans.h"
#include "observatory/api/server.h"
#include "observatory/forward/forwarder.h"
#include "observatory/forward/forwarding_store.h"
#include "observatory/replicas/config_mirror.h"
#include "observatory/store/postgres/postgres_span_store.h"
#include "observatory/store/sqlite/sqlite_span_store.h"
#include "trace/export/job_history.h"
#include "util/byte_size.h"
#include "util/time_format.h"
#include "version.h"

namespace backspan::cli {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "Fatal: %s\n", message.c_str());
  return kExitUsage;
}

// HOST:PORT, with an IPv6 host in brackets.
Status ParseListen(const std::string& listen, observatory::ServerOptions* so) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("--listen must be HOST:PORT, e.g. 127.0.0.1:4318");
  so->host = listen.substr(0, colon);
  if (so->host.size() > 2 && so->host.front() == '[' && so->host.back() == ']') so->host = so->host.substr(1, so->host.size() - 2);
  try {
    so->port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return Status::InvalidArgument("--listen must be HOST:PORT, e.g. 127.0.0.1:4318");
  }
  if (so->port < 0 || so->port > 65535) return Status::InvalidArgument("the port must be between 0 and 65535");
  return Status::Ok();
}

// The HTTP server's limits and the API's defaults, from their flags.
Status ParseLimits(const ServeCommand& c, observatory::ServerOptions* out) {
  observatory::ServerOptions& so = *out;
  so.http.threads = c.threads;
  so.http.max_connections = static_cast<size_t>(c.max_connections);
  so.http.max_queued = static_cast<size_t>(c.max_queued);
  struct DurationFlag {
    const char* name;
    const std::string& value;
    int64_t* out;
  };
  for (const DurationFlag& f : {DurationFlag{"--header-timeout", c.header_timeout, &so.http.header_timeout_ns},
                                DurationFlag{"--body-timeout", c.body_timeout, &so.http.body_timeout_ns},
                                DurationFlag{"--idle-timeout", c.idle_timeout, &so.http.idle_timeout_ns},
                                DurationFlag{"--shutdown-timeout", c.shutdown_timeout, &so.http.shutdown_timeout_ns}}) {
    auto d = ParseDuration(f.value);
    if (!d || *d <= 0) return Status::InvalidArgument(std::string(f.name) + " must be a duration such as 10s");
    *f.out = *d;
  }
  so.http.write_timeout_ns = so.http.body_timeout_ns + 10'000'000'000;
  auto header_size = ParseByteSize(c.max_header_size);
  if (!header_size || *header_size < 1024 || *header_size > (16 << 20))
    return Status::InvalidArgument("--max-header-size must be a size between 1KiB and 16MiB, such as 64KiB");
  so.http.parser.max_head_bytes = static_cast<size_t>(*header_size);
  auto min_rate = ParseByteSize(c.min_rate);
  if (!min_rate || *min_rate < 1) return Status::InvalidArgument("--min-rate must be a size per second, such as 500B");
  so.http.min_rate_bytes_per_s = static_cast<uint64_t>(*min_rate);
  auto stale = ParseDuration(c.stale_after);
  if (!stale || *stale <= 0) return Status::InvalidArgument("--stale-after must be a duration such as 26h");
  so.default_stale_ns = *stale;
  auto max_body = ParseByteSize(c.max_body);
  if (!max_body || *max_body < 1024) return Status::InvalidArgument("--max-body must be a size of at least 1KiB, such as 20MiB");
  so.max_body_bytes = static_cast<size_t>(*max_body);
  auto max_buffered = ParseByteSize(c.max_buffered);
  if (!max_buffered || *max_buffered < *max_body)
    return Status::InvalidArgument("--max-buffered must be a size no smaller than --max-body, such as 256MiB");
  so.http.max_buffered_bytes = static_cast<uint64_t>(*max_buffered);
  auto decode_memory = ParseByteSize(c.decode_memory);
  if (!decode_memory || *decode_memory < (16 << 20)) return Status::InvalidArgument("--decode-memory must be a size of at least 16MiB, such as 512MiB");
  so.decode_memory_bytes = static_cast<uint64_t>(*decode_memory);
  if (!c.insight_quota.empty()) {
    auto quota = ParseByteSize(c.insight_quota);
    if (!quota || *quota < 1) return Status::InvalidArgument("--insight-quota must be a size such as 2TiB");
    so.insight_quota_bytes = static_cast<double>(*quota);
  }
  return Status::Ok();
}

// Where the store lives and what it keeps, from the flags.
Status ParseStoreOptions(const GlobalOptions& g, const ServeCommand& c, observatory::StoreOptions* out) {
  observatory::StoreOptions& store_options = *out;
  std::string state = g.trace.state_dir.empty() ? trace::DefaultStateDir() : g.trace.state_dir;
  store_options.dir = c.data.empty() ? state + "/observatory" : c.data;
  if (!c.store.empty()) {
    if (c.store.rfind("postgresql://", 0) != 0 && c.store.rfind("postgres://", 0) != 0)
      return Status::InvalidArgument("--store must be a PostgreSQL URI such as postgresql://backspan@db.example:5432/backspan");
    if (!c.sync.empty() && c.sync != "full")
      return Status::InvalidArgument("--sync applies to the SQLite store; PostgreSQL's durability is its own "
                                     "synchronous_commit setting");
    store_options.uri = c.store;
  }
  if (!c.retention.empty()) {
    auto r = ParseDuration(c.retention);
    if (!r || *r <= 0) return Status::InvalidArgument("--retention must be a duration such as 30d");
    store_options.retention_ns = *r;
  }
  if (!c.max_size.empty()) {
    auto m = ParseByteSize(c.max_size);
    if (!m || *m < (1 << 20)) return Status::InvalidArgument("--max-size must be a size of at least 1MiB, such as 10GiB");
    store_options.max_bytes = *m;
  }
  store_options.sync_full = c.sync != "normal";
  if (c.lost_after == "0") {
    store_options.lost_after_ns = 0;
  } else {
    auto lost = ParseDuration(c.lost_after);
    if (!lost || *lost <= 0) return Status::InvalidArgument("--lost-after must be a duration such as 6h, or 0");
    store_options.lost_after_ns = *lost;
  }
  return Status::Ok();
}

// The ingest secret comes from a file or the environment, never the
// command line, where every user of the machine could read it.
Status ReadIngestToken(const ServeCommand& c, std::string* token) {
  if (!c.ingest_token_file.empty()) {
    auto read = ReadWholeFile(Env::Default(), c.ingest_token_file);
    if (!read.ok()) return Status::InvalidArgument("--ingest-token-file: " + read.status().message());
    token->assign(read->begin(), read->end());
    while (!token->empty() && std::isspace(static_cast<unsigned char>(token->back()))) token->pop_back();
    if (token->empty()) return Status::InvalidArgument("--ingest-token-file: the file is empty");
  } else if (const char* t = std::getenv("BACKSPAN_INGEST_TOKEN"); t && *t) {
    *token = t;
  }
  return Status::Ok();
}

// Secure by default: without access control, only this machine may connect.
Status CheckAuthenticationChoice(const ServeCommand& c, const std::string& host) {
  if (c.oidc_issuer.empty() && !IsLoopback(host) && !c.insecure_no_auth)
    return Status::InvalidArgument("refusing to serve " + host +
                                   " without authentication: set --oidc-issuer and --access-config, "
                                   "or pass --insecure-no-auth");
  if (c.oidc_issuer.empty() != c.access_config.empty())
    return Status::InvalidArgument("--oidc-issuer and --access-config go together");
  return Status::Ok();
}

// The access control, or none without --oidc-issuer.
Result<std::unique_ptr<observatory::AccessControl>> OpenAccessControl(const ServeCommand& c, const std::string& store_dir,
                                                                      Env* env) {
  if (c.oidc_issuer.empty()) return std::unique_ptr<observatory::AccessControl>();
  observatory::AccessOptions ao;
  ao.jwt.issuer = c.oidc_issuer;
  ao.jwt.audiences = c.oidc_audiences.empty() ? std::vector<std::string>{"backspan"} : c.oidc_audiences;
  ao.policy_file = c.access_config;
  ao.audit_dir = store_dir + "/audit";
  return observatory::AccessControl::Create(ao, auth::HttpFetch(), env);
}

// The backup plans, or none without --plans; `program` becomes this very
// binary, whatever the PATH says, for their runs.
Result<std::unique_ptr<observatory::PlanBook>> LoadPlans(const ServeCommand& c, Env* env, std::string* program) {
  if (c.plans.empty()) return std::unique_ptr<observatory::PlanBook>();
  ASSIGN_OR_RETURN(auto plans, observatory::PlanBook::Load(env, c.plans));
  auto self = env->ReadLink("/proc/self/exe");
  if (!self.ok()) return self.status().WithContext("cannot find this program to run plans' jobs");
  *program = *self;
  return plans;
}

// With a store replicas share, the files the API writes (the access
// configuration, the plans) are kept in step across replicas: the shared
// copy replaces this replica's file now, before it is read.
Result<std::vector<observatory::ConfigMirrorLoop::Entry>> ShareConfigFiles(const GlobalOptions& g, const ServeCommand& c,
                                                                           observatory::SharedState* docs, Env* env) {
  std::vector<observatory::ConfigMirrorLoop::Entry> entries;
  if (!docs) return entries;
  auto add = [&](const std::string& path, const char* name, observatory::ConfigMirror::Validate validate) -> Status {
    if (path.empty()) return Status::Ok();
    auto mirror = std::make_unique<observatory::ConfigMirror>(env, path, name, docs, std::move(validate));
    auto note = mirror->Start();
    if (!note.ok()) return note.status();
    if (!note->empty() && !g.quiet) std::fprintf(stderr, "note: %s\n", note->c_str());
    entries.push_back({std::move(mirror), nullptr});
    return Status::Ok();
  };
  RETURN_IF_ERROR(add(c.access_config, "access configuration",
                      [](std::string_view text) { return auth::AccessPolicy::Parse(text).status(); }));
  RETURN_IF_ERROR(add(c.plans, "plans file", [p = c.plans](std::string_view text) {
    return observatory::ParsePlans(text, p).status();
  }));
  return entries;
}

// SIGINT and SIGTERM stop the server from a thread of their own; blocked
// before any thread starts, so every thread inherits the mask.
sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

void PrintListening(const GlobalOptions& g, const std::string& url, const std::string& store_dir, bool authenticated,
                    const std::string& host) {
  if (g.json) {
    std::printf("%s\n", ServeListeningJson(url, store_dir).c_str());
  } else {
    std::printf("backspan observatory listening on %s (store: %s)\n", url.c_str(), store_dir.c_str());
    std::printf("  send traces: OTEL_EXPORTER_OTLP_ENDPOINT=%s backspan backup ...\n", url.c_str());
  }
  std::fflush(stdout);
  if (!authenticated && !g.quiet)
    std::fprintf(stderr, "%s: serving without authentication%s\n", IsLoopback(host) ? "note" : "warning",
                 IsLoopback(host) ? " (loopback only; set --oidc-issuer to require tokens)" : " to the network (--insecure-no-auth)");
}

// Serves until a stop signal, then drains.
void ServeUntilStopped(observatory::Server& server, sigset_t stop_signals) {
  std::atomic<bool> run_returned{false};
  std::thread signals([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    // A signal that comes before Run is listening finds nothing to stop:
    // keep asking until Run has returned.
    while (!run_returned) {
      server.Stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  server.Run();
  run_returned = true;
  // Run also returns if the listener fails; wake the signal thread then.
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
}

int Fatal(const Status& st) {
  std::fprintf(stderr, "Fatal: %s\n", st.message().c_str());
  return kExitFailure;
}

}  // namespace

int RunServe(const GlobalOptions& g, const ServeCommand& c) {
  observatory::ServerOptions so;
  observatory::StoreOptions store_options;
  for (Status st : {ParseListen(c.listen, &so), ParseLimits(c, &so), ParseStoreOptions(g, c, &store_options),
                    ReadIngestToken(c, &so.ingest_token)})
    if (!st.ok()) return Usage(st.message());
#ifdef __GLIBC__
  // Buffers of 256 KiB and more (request bodies, decoded batches) are
  // mapped and unmapped whole, so a burst of large requests does not leave
  // the heap at its peak; the server trims the rest when idle.
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
#endif
  const sigset_t stop_signals = BlockStopSignals();
  if (Status st = CheckAuthenticationChoice(c, so.host); !st.ok()) return Usage(st.message());

  Env* env = Env::Default();
  auto store = store_options.uri.empty() ? observatory::SqliteSpanStore::Open(store_options, env)
                                         : observatory::PostgresSpanStore::Open(store_options, env);
  if (!store.ok()) return Fatal(store.status());
  auto shared_files = ShareConfigFiles(g, c, (*store)->Shared(), env);
  if (!shared_files.ok()) return Fatal(shared_files.status());
  auto access = OpenAccessControl(c, store_options.dir, env);
  if (!access.ok()) return Fatal(access.status());
  so.access = access->get();
  auto plans = LoadPlans(c, env, &so.program);
  if (!plans.ok()) return Fatal(plans.status());
  so.plans = plans->get();
  std::optional<notify::NotifyConfig> notify_config;
  if (!c.notify.empty()) {
    auto nc = notify::LoadNotifyConfig(env, c.notify);
    if (!nc.ok()) return Fatal(nc.status());
    notify_config = std::move(*nc);
    so.notify = &*notify_config;
    so.notify_state_path = store_options.dir + "/notify-state.json";
  }
  std::vector<observatory::ForwardDestination> destinations;
  for (const std::string& spec : c.forward) {
    auto d = observatory::ParseForwardDestination(spec, env);
    if (!d.ok()) return Usage(d.status().message());
    destinations.push_back(std::move(*d));
  }
  // The access control reloads an edited file by itself; the plans are told.
  for (auto& e : *shared_files)
    if (e.mirror->path() == c.plans) e.on_replaced = [book = plans->get()] { (void)book->Reload(); };
  std::optional<observatory::ConfigMirrorLoop> mirrors;
  if (!shared_files->empty()) mirrors.emplace(std::move(*shared_files));
  observatory::SpanStore* writes_to = store->get();
  std::unique_ptr<observatory::Forwarding> forwarding;
  std::unique_ptr<observatory::ForwardingStore> forwarding_store;
  if (!destinations.empty()) {
    forwarding = std::make_unique<observatory::Forwarding>(
        std::move(destinations), RedactionConfigFor(g, store_options.dir), BACKSPAN_VERSION, env);
    forwarding_store = std::make_unique<observatory::ForwardingStore>(writes_to, forwarding.get());
    writes_to = forwarding_store.get();
    so.forward = forwarding.get();
  }
  observatory::Server server(so, writes_to, env);
  if (Status s = server.Bind(); !s.ok()) return Fatal(s);
  const std::string url = "http://" + (so.host.find(':') != std::string::npos ? "[" + so.host + "]" : so.host) + ":" +
                          std::to_string(server.port());
  PrintListening(g, url, store_options.uri.empty() ? store_options.dir : pg::RedactUri(store_options.uri),
                 so.access != nullptr, so.host);
  ServeUntilStopped(server, stop_signals);
  if (!g.quiet && !g.json) std::fprintf(stderr, "stopped\n");
  return kExitOk;
}

}  // namespace backspan::cli
