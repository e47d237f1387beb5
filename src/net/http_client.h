// A small blocking HTTP client (cpp-httplib underneath), for the OTLP
// exporter and, later, the cloud storage backends. One request per call.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"

namespace backspan::net {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t timeout_ms = 10'000;  // the whole request, connecting included
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// Sends `request`. Any HTTP status is a response; kIOError means no response
// came (connection refused, DNS, TLS, timeout), with the reason.
Result<HttpResponse> Send(const HttpRequest& request) noexcept;

// Seconds to wait from a Retry-After value (delay-seconds or an HTTP-date,
// RFC 9110), given the current Unix time; -1 if the value is unusable.
int64_t ParseRetryAfter(const std::string& value, int64_t now_unix_s);

}  // namespace backspan::net
