// The observatory's JSON API (docs/api.md), independent of the HTTP server:
// each handler takes the query parameters and the caller's scope and
// returns a status code and a JSON body.
#pragma once

#include <map>
#include <string>

#include "observatory/scope.h"
#include "observatory/span_store.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

struct ApiRequest {
  std::multimap<std::string, std::string> params;
  Scope scope;
};

struct ApiResponse {
  int status = 200;
  std::string body;
  // The request reached for something outside the caller's scope (answered
  // as if it did not exist): audited as a denial.
  bool out_of_scope = false;
};

class Api {
 public:
  // `default_stale_ns`: when a source with no learned schedule is overdue.
  Api(SpanStore* store, Env* env, int64_t default_stale_ns)
      : store_(store), env_(env), default_stale_ns_(default_stale_ns) {}

  // GET /api/v1/jobs
  ApiResponse Jobs(const ApiRequest& req) const;
  // GET /api/v1/traces/{trace_id}
  ApiResponse Trace(const std::string& trace_id_hex, const ApiRequest& req) const;
  // GET /api/v1/trends
  ApiResponse Trends(const ApiRequest& req) const;
  // GET /api/v1/freshness
  ApiResponse Freshness(const ApiRequest& req) const;
  // GET /api/v1/tags
  ApiResponse Tags(const ApiRequest& req) const;

 private:
  SpanStore* store_;
  Env* env_;
  int64_t default_stale_ns_;
};

// {"error": message} with `status`.
ApiResponse ApiError(int status, const std::string& message);

// The HTTP status for a failed Status, the one mapping every endpoint uses:
// the caller's mistakes are 4xx (400 invalid, 401 unauthenticated, 404 not
// found, 409 exists or locked); a store that cannot read or commit now is
// 503, to be retried; anything else is 500.
int HttpStatusFor(const Status& status);

// ApiError(HttpStatusFor(status), prefix + status.message()).
ApiResponse ApiErrorFor(const Status& status, const std::string& prefix = "");

}  // namespace backspan::observatory
