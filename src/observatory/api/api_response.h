// What every API handler answers, and the one mapping from a Status to an
// HTTP status that every endpoint uses (docs/api.md, "Errors").
#pragma once

#include <string>

#include "util/status.h"

namespace backspan::observatory {

struct ApiResponse {
  int status = 200;
  std::string body;
  // The request reached for something outside the caller's scope (answered
  // as if it did not exist): audited as a denial.
  bool out_of_scope = false;
};

// {"error": message} with `status`.
ApiResponse ApiError(int status, const std::string& message);

// The HTTP status for a failed Status: the caller's mistakes are 4xx (400
// invalid, 401 unauthenticated, 403 denied, 404 not found, 409 exists or
// locked); a store that cannot read or commit now (an I/O error, a full
// disk) is 503, to be retried; anything else is 500.
int HttpStatusFor(const Status& status);

// The HTTP status when the server's own machinery (the store) failed while
// serving a request that was valid: 503 when a retry may succeed, else 500,
// never a 4xx, because the caller did nothing wrong. Clients that retry on
// 503 (OTLP exporters, Azure Monitor) then retry only what may succeed.
int HttpStatusForServerFailure(const Status& status);

// ApiError(HttpStatusFor(status), prefix + status.message()).
ApiResponse ApiErrorFor(const Status& status, const std::string& prefix = "");

// ApiError(HttpStatusForServerFailure(status), prefix + status.message()).
ApiResponse ServerFailure(const Status& status, const std::string& prefix);

}  // namespace backspan::observatory
