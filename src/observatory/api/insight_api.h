// The JSON face of insight (docs/api.md, "Insight"): anomalies, forecasts
// and the feature export, each limited to the sources the caller's scope
// sees, exactly as job lists are.
#pragma once

#include <string>
#include <vector>

#include "observatory/api/api_response.h"
#include "observatory/api/query_api.h"
#include "observatory/insight/insight_engine.h"
#include "observatory/query/metrics.h"
#include "observatory/query/trace_view.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

class InsightApi {
 public:
  InsightApi(SpanStore* store, insight::InsightEngine* engine, Env* env) : store_(store), engine_(engine), env_(env) {}

  // GET /api/v1/anomalies?since=&until=&source=&kind=&limit=
  ApiResponse Anomalies(const ApiRequest& req) const;
  // GET /api/v1/forecasts?source=&as_of=
  ApiResponse Forecasts(const ApiRequest& req) const;
  // GET /api/v1/insight/features?since=&until=&source=&format=jsonl|csv: one
  // row per job, numbers and the source id only. `content_type` is set.
  ApiResponse Features(const ApiRequest& req, std::string* content_type) const;
  // The `anomaly` events of a trace's jobs of the sources `scope` sees, for
  // the trace view to show on their spans.
  std::vector<AddedEvent> TraceAnomalies(const std::string& trace_id_hex, const Scope& scope) const;
  // The anomaly counters and each visible source's outlook, for /metrics.
  void AddMetrics(const Scope& scope, int64_t now_ns, MetricsInput& in) const;

 private:
  SpanStore* store_;
  insight::InsightEngine* engine_;
  Env* env_;
};

}  // namespace backspan::observatory
