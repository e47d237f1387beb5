// The agent's calls to the observatory, authenticated with a bearer token
// from a file or an OIDC access token got by the client-credentials grant
// (cached until a minute before it expires).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "agent/config.h"
#include "net/http_client.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::agent {

class ObservatoryClient {
 public:
  ObservatoryClient(const ObservatoryConfig& config, Env* env) : config_(config), env_(env) {}

  bool configured() const { return !config_.url.empty(); }
  // Sends `method` `path` (e.g. "/v1/traces") with `body`. Any HTTP status
  // is a response; IOError if none came or no token could be had.
  Result<net::HttpResponse> Send(const std::string& method, const std::string& path, const std::string& content_type,
                                 std::string body, int64_t timeout_ms = 10'000);
  // Forgets a cached OIDC token (after a 401).
  void ForgetToken();

 private:
  Result<std::string> Authorization();

  const ObservatoryConfig& config_;
  Env* env_;
  std::mutex mu_;
  std::string token_;
  int64_t token_expires_ = 0;  // unix seconds
};

}  // namespace backspan::agent
