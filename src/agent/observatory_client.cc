#include "agent/observatory_client.h"

#include <nlohmann/json.hpp>

#include "config/toml_reader.h"
#include "env/env.h"
#include "util/hex.h"
#include "util/text.h"

namespace backspan::agent {

Result<std::string> ObservatoryClient::Authorization() {
  if (!config_.token_file.empty()) {
    ASSIGN_OR_RETURN(Bytes token, config::ReadNamedFile(env_, config_.token_file));
    return "Bearer " + std::string(Trim(AsText(token)));
  }
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = env_->NowUnixNanos() / 1000000000;
  if (!token_.empty() && now < token_expires_) return "Bearer " + token_;
  ASSIGN_OR_RETURN(Bytes secret, config::ReadNamedFile(env_, config_.oidc_client_secret_file));
  net::HttpRequest req;
  req.url = config_.oidc_token_url;
  // client_secret_basic, which every token endpoint must accept (RFC 6749,
  // section 2.3.1): the id and secret form-encoded, then Base64.
  const std::string credentials = PercentEncode(config_.oidc_client_id) + ":" + PercentEncode(Trim(AsText(secret)));
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"},
                 {"Authorization", "Basic " + Base64Encode(AsBytes(credentials))}};
  req.body = "grant_type=client_credentials";
  if (!config_.oidc_scope.empty()) req.body += "&scope=" + PercentEncode(config_.oidc_scope);
  ASSIGN_OR_RETURN(net::HttpResponse resp, net::Send(req));
  if (resp.status != 200)
    return Status::Unauthenticated("the OIDC token endpoint " + config_.oidc_token_url + " answered " +
                                   std::to_string(resp.status) + ": " + resp.body.substr(0, 200));
  const auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (!j.is_object() || !j.contains("access_token") || !j["access_token"].is_string())
    return Status::Unauthenticated("the OIDC token endpoint's answer has no access_token");
  token_ = j["access_token"].get<std::string>();
  const int64_t lifetime = j.contains("expires_in") && j["expires_in"].is_number() ? j["expires_in"].get<int64_t>() : 300;
  token_expires_ = now + std::max<int64_t>(lifetime - 60, 10);
  return "Bearer " + token_;
}

void ObservatoryClient::ForgetToken() {
  std::lock_guard<std::mutex> lock(mu_);
  token_.clear();
}

Result<net::HttpResponse> ObservatoryClient::Send(const std::string& method, const std::string& path,
                                                  const std::string& content_type, std::string body, int64_t timeout_ms) {
  ASSIGN_OR_RETURN(std::string authorization, Authorization());
  net::HttpRequest req;
  req.method = method;
  std::string base = config_.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  req.url = base + path;
  req.headers = {{"Authorization", authorization}};
  if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
  req.body = std::move(body);
  req.timeout_ms = timeout_ms;
  auto resp = net::Send(req);
  if (resp.ok() && resp->status == 401 && config_.token_file.empty()) ForgetToken();
  return resp;
}

}  // namespace backspan::agent
