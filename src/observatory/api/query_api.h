// The observatory's JSON API (docs/api.md), independent of the HTTP server:
// each handler takes the query parameters and the caller's scope and
// returns a status code and a JSON body.
#pragma once

#include <map>
#include <string>

#include "observatory/access/scope.h"
#include "observatory/api/api_response.h"
#include "observatory/api/request_params.h"
#include "observatory/query/trace_view.h"
#include "observatory/store/span_store.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {



class Api {
 public:
  // `default_stale_ns`: when a source with no learned schedule is overdue.
  Api(SpanStore* store, Env* env, int64_t default_stale_ns)
      : store_(store), env_(env), default_stale_ns_(default_stale_ns) {}

  // GET /api/v1/jobs
  ApiResponse Jobs(const ApiRequest& req) const;
  // GET /api/v1/traces/{trace_id}; `added` events join their spans.
  ApiResponse Trace(const std::string& trace_id_hex, const ApiRequest& req,
                    const std::vector<AddedEvent>& added = {}) const;
  // GET /api/v1/trends
  ApiResponse Trends(const ApiRequest& req) const;
  // GET /api/v1/freshness
  ApiResponse Freshness(const ApiRequest& req) const;
  // GET /api/v1/tags
  ApiResponse Tags(const ApiRequest& req) const;
  // GET /api/v1/agents: each agent's newest heartbeat, whether it is heard from.
  ApiResponse Agents(const ApiRequest& req) const;

 private:
  SpanStore* store_;
  Env* env_;
  int64_t default_stale_ns_;
};

}  // namespace backspan::observatory
