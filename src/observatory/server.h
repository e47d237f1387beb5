// `backspan serve`: one HTTP server for OTLP ingest (/v1/traces and the
// in-progress extension), the JSON API, the web UI, /metrics and health,
// on the event-loop server of http/server.h and its limits.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "http/server.h"
#include "observatory/otlp_decoder.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

class SpanStore;
class AccessControl;
class PlanBook;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 4318;                        // 0: any free port (see Server::port)
  size_t max_body_bytes = 20 << 20;       // as sent and after gzip
  // Memory for decoding request bodies at once (a request reserves about
  // twenty times its decoded size; beyond the budget, requests wait, then
  // get 503).
  uint64_t decode_memory_bytes = 512ull << 20;
  // Connections, timeouts, queues and worker threads (its parser's body
  // limit is max_body_bytes).
  http::ServerLimits http;
  int64_t default_stale_ns = 26LL * 3600 * 1'000'000'000;
  SpanLimits limits;
  // The shared secret the /api/v1/ingest/* endpoints require (in ?token= or
  // a bearer header); empty: they take requests from anyone who can connect.
  std::string ingest_token;
  // When set, every request but the health checks and the UI's static files
  // needs a bearer token whose roles allow it (docs/security.md); not owned.
  AccessControl* access = nullptr;
  // Backup plans the API may run, retention policies it may change
  // (docs/api.md, "Operations"); not owned. Runs execute `program`, this
  // backspan binary, exporting to this server.
  PlanBook* plans = nullptr;
  std::string program;
};

class Server {
 public:
  Server(ServerOptions options, SpanStore* store, Env* env);
  ~Server();

  // Binds the listening socket; IOError if the address is taken.
  Status Bind();
  // Serves until Stop, then answers the requests it has read in full;
  // call after Bind.
  void Run();
  // Makes Run drain and return; safe from another thread, before Run too.
  void Stop();
  // The bound port (useful with port 0).
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace backspan::observatory
