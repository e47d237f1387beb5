#include "observatory/api/api_response.h"

#include "observatory/api/json_text.h"

namespace backspan::observatory {

ApiResponse ApiError(int status, const std::string& message) {
  nlohmann::json body = {{"error", message}};
  return {status, JsonText(body), false};
}

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kAmbiguous: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kLocked: return 409;
    case ErrorCode::kIOError:
    case ErrorCode::kNoSpace: return 503;
    default: return 500;
  }
}

ApiResponse ApiErrorFor(const Status& status, const std::string& prefix) {
  return ApiError(HttpStatusFor(status), prefix + status.message());
}

int HttpStatusForServerFailure(const Status& status) { return HttpStatusFor(status) == 503 ? 503 : 500; }

ApiResponse ServerFailure(const Status& status, const std::string& prefix) {
  return ApiError(HttpStatusForServerFailure(status), prefix + status.message());
}

}  // namespace backspan::observatory
