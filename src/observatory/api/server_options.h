// How `backspan serve` is set up: its address, limits, and the access
// control and plans it answers with.
#pragma once

#include <cstdint>
#include <string>

#include "http/server.h"
#include "observatory/ingest/otlp_decoder.h"

namespace backspan::observatory {

class AccessControl;
}
namespace backspan::notify {
struct NotifyConfig;
}
namespace backspan::observatory {

class PlanBook;
class Forwarding;

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
  // Notifications (docs/notifications.md): channels and rules, and where
  // open incidents are kept; not owned. Null: none are sent.
  const notify::NotifyConfig* notify = nullptr;
  std::string notify_state_path;
  // The stored bytes a source's repository may hold (docs/insight.md,
  // "Growth"); 0: no growth forecasts.
  double insight_quota_bytes = 0;
  // `serve --forward` (docs/observatory.md): where accepted spans and new
  // anomalies are sent on; not owned. The store the server is given must
  // already write through it (ForwardingStore). Null: nothing is forwarded.
  Forwarding* forward = nullptr;
};

}  // namespace backspan::observatory
