// An HTTP/1.1 server that multiplexes its connections on one event loop
// (epoll) and runs handlers on a pool of worker threads. A connection costs
// a few hundred bytes until its request is whole, so slow or idle clients
// cannot occupy the workers: each phase of a request has a deadline (the
// header fields in full, the body at a minimum rate after a grace, the
// response likewise), and the number of connections, the requests waiting
// for a worker and the bytes of bodies held are all capped, answered with
// 503 and Retry-After beyond. Stop drains: requests already read in full
// are answered, the rest are closed unanswered (the client retries).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "http/request_parser.h"
#include "http/router.h"
#include "util/status.h"

namespace backspan::http {

struct ServerLimits {
  int threads = 8;                           // worker threads
  size_t max_connections = 1024;             // beyond: 503 and close
  ParserLimits parser;                       // header and body sizes
  int64_t header_timeout_ns = 10'000'000'000;   // a request's first byte to its header's end (else 408)
  int64_t idle_timeout_ns = 60'000'000'000;     // a kept-alive connection between requests
  int64_t body_timeout_ns = 20'000'000'000;     // grace for a body, then at least min_rate (else 408)
  uint64_t min_rate_bytes_per_s = 500;          // for bodies and for responses, after their grace
  int64_t write_timeout_ns = 30'000'000'000;    // grace for a response
  size_t max_queued = 256;                      // whole requests waiting for a worker (else 503)
  uint64_t max_buffered_bytes = 256ull << 20;   // request and response bytes held (else 503)
  int64_t shutdown_timeout_ns = 10'000'000'000; // Stop waits this long for requests being answered
};

// Counters since the server started, for /metrics.
struct ServerStats {
  uint64_t connections_open = 0, connections_accepted = 0, connections_refused = 0;
  uint64_t timeouts = 0;   // 408s and connections closed for being too slow
  uint64_t malformed = 0;  // requests refused for their framing (4xx from the parser)
  uint64_t busy = 0;       // 503s for a full queue or memory budget
  uint64_t buffered_bytes = 0;  // held now
};

class Server {
 public:
  // `router` must outlive the server; its handlers run on the worker
  // threads (or the loop, for RunOn::kEventLoop routes).
  Server(ServerLimits limits, const Router* router);
  ~Server();

  // Binds and listens on host:port (port 0: any free port). IOError if the
  // address is taken or not this machine's.
  Status Listen(const std::string& host, int port);
  // The bound port.
  int port() const;
  // Serves until Stop, then drains; call after Listen.
  void Run();
  // Makes Run drain and return; safe from any thread, before or during Run.
  void Stop();
  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace backspan::http
