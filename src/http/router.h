// Routes requests by method and path pattern. A pattern is a path whose
// segments are literal or "*", which matches any one non-empty segment and
// becomes one of Request::captures ("/api/v1/traces/*"). A path no route
// matches is 404; a path matched for other methods only is 405 with Allow.
// HEAD is answered by GET routes, without the body.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace backspan::http {

using Handler = std::function<void(Request&, Response&)>;

// Where a route's handler runs: on a worker thread (the default; it may
// block), or on the event loop itself, for answers that are immediate and
// must stay fast however busy the workers are (health checks, static files).
enum class RunOn { kWorker, kEventLoop };

class Router {
 public:
  // `max_body`: the largest body the route reads (0: the server's limit); a
  // larger one is not read, and the handler sees Request::body_too_large.
  void Add(std::string method, std::string_view pattern, Handler handler, RunOn where = RunOn::kWorker,
           uint64_t max_body = 0);
  void Get(std::string_view pattern, Handler h, RunOn where = RunOn::kWorker) { Add("GET", pattern, std::move(h), where); }
  void Post(std::string_view pattern, Handler h, uint64_t max_body = 0) {
    Add("POST", pattern, std::move(h), RunOn::kWorker, max_body);
  }
  void Put(std::string_view pattern, Handler h, uint64_t max_body = 0) {
    Add("PUT", pattern, std::move(h), RunOn::kWorker, max_body);
  }
  // Called after a 404 or 405 answer is set, to rewrite it.
  void SetFallback(Handler fallback) { fallback_ = std::move(fallback); }

  // Where the handler for `req` runs (kWorker if none matches).
  RunOn Where(const Request& req) const;
  // The largest body the route for `req` reads; 0 for the server's limit.
  uint64_t BodyLimit(const Request& req) const;
  // Runs the matching handler, setting req.captures; or answers 404/405.
  void Handle(Request& req, Response& res) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "*" matches any one
    Handler handler;
    RunOn where;
    uint64_t max_body;
  };
  // The route for `req`, with its captures; else nullptr, and the methods
  // other routes take this path with in `allow`.
  const Route* Match(const Request& req, std::vector<std::string>* captures, std::string* allow) const;

  std::vector<Route> routes_;
  Handler fallback_;
};

}  // namespace backspan::http
