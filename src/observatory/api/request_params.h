// The query parameters of the JSON read API, read one way everywhere: a
// bad one is a BadParam that Guard answers with 400 naming it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "observatory/api/api_response.h"
#include "observatory/access/scope.h"

namespace backspan::observatory {

// A read of the API: its query parameters and the caller's scope.
struct ApiRequest {
  std::multimap<std::string, std::string> params;
  Scope scope;
};

struct BadParam {
  std::string message;
};

// The parameter's value; nullptr when absent or empty.
const std::string* Param(const ApiRequest& req, const char* name);
// A time: RFC 3339, unix seconds, or a duration meaning that long ago ("7d").
int64_t TimeParam(const ApiRequest& req, const char* name, int64_t fallback, int64_t now);
// A duration such as 90s, 5m or 2h.
int64_t DurationParam(const ApiRequest& req, const char* name, int64_t fallback);

// fn(), or 400 for the BadParam it threw.
template <typename Fn>
ApiResponse Guard(Fn&& fn) {
  try {
    return fn();
  } catch (const BadParam& e) {
    return ApiError(400, e.message);
  }
}

}  // namespace backspan::observatory
