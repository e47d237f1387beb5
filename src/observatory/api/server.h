// `backspan serve`: one HTTP server for OTLP ingest (/v1/traces and the
// in-progress extension), the JSON API, the web UI, /metrics and health,
// on the event-loop server of http/server.h and its limits.
#pragma once

#include <memory>

#include "observatory/api/server_options.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

class SpanStore;

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
