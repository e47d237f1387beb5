#include "backend/object/rest_client.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cstdlib>
#include <cctype>
#include <chrono>
#include <ctime>
#include <optional>

#include "crypto/crypto.h"
#include "env/env.h"
#include "net/http_client.h"
#include "trace/semconv.h"
#include "trace/tracer.h"
#include "util/interrupt.h"
#include "util/text.h"

namespace backspan::object {

std::string Endpoint::Origin() const { return scheme + "://" + HostHeader(); }

std::string Endpoint::HostHeader() const {
  const bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? h : h + ":" + std::to_string(port);
}

Result<Endpoint> ParseEndpoint(const std::string& url, bool allow_http) {
  Endpoint e;
  const size_t sep = url.find("://");
  if (sep == std::string::npos) return Status::InvalidArgument("'" + url + "' is not an http(s) URL");
  e.scheme = AsciiLower(url.substr(0, sep));
  if (e.scheme != "http" && e.scheme != "https")
    return Status::InvalidArgument("'" + url + "' is not an http(s) URL");
  std::string authority = url.substr(sep + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const size_t at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  e.port = e.scheme == "https" ? 443 : 80;
  std::string port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return Status::InvalidArgument("'" + url + "' has a malformed IPv6 host");
    e.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else {
    const size_t colon = authority.rfind(':');
    e.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return Status::InvalidArgument("'" + url + "' has a malformed port");
    e.port = std::stoi(port);
    if (e.port < 1 || e.port > 65535) return Status::InvalidArgument("'" + url + "' has a port out of range");
  }
  if (e.host.empty()) return Status::InvalidArgument("'" + url + "' has no host");
  if (e.scheme == "http" && !allow_http && !net::IsLoopbackHost(e.host))
    return Status::InvalidArgument("refusing plain http to " + e.host +
                                   ": credentials and data would cross the network unencrypted; use https, or "
                                   "--insecure-http if this network is trusted");
  return e;
}

std::string UriEncode(std::string_view text, bool keep_slash) { return PercentEncode(text, keep_slash); }

RestClient::RestClient(Endpoint endpoint, std::shared_ptr<RequestSigner> signer, RestOptions options)
    : endpoint_(std::move(endpoint)),
      signer_(std::move(signer)),
      options_(std::move(options)),
      env_(options_.env ? options_.env : Env::Default()),
      pool_(endpoint_.Origin(), options_.tls, options_.connections) {
  crypto::RandomBytes(reinterpret_cast<uint8_t*>(&rng_state_), sizeof(rng_state_));
  rng_state_ |= 1;
}

RestClient::Counter& RestClient::CounterFor(const std::string& operation) {
  std::lock_guard lock(counters_mu_);
  auto& c = counters_[operation];
  if (!c) c = std::make_unique<Counter>();
  return *c;
}

std::vector<RequestCounts> RestClient::Counts() const {
  std::lock_guard lock(counters_mu_);
  std::vector<RequestCounts> out;
  for (const auto& [op, c] : counters_)
    out.push_back({op, c->requests.load(), c->retries.load(), c->failures.load(), c->sent.load(), c->received.load()});
  return out;
}

namespace {

bool Retryable(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::string Header(const net::PooledResponse& r, const char* name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

}  // namespace

int64_t RestClient::BackoffMs(int attempt, const net::PooledResponse* last) {
  // Full jitter: a random wait up to an exponentially growing ceiling, so
  // many clients that failed together do not retry together.
  const int64_t ceiling = std::min(options_.backoff_cap_ms, options_.backoff_base_ms << std::min(attempt - 1, 20));
  int64_t wait;
  {
    std::lock_guard lock(rng_mu_);
    rng_state_ ^= rng_state_ << 13;
    rng_state_ ^= rng_state_ >> 7;
    rng_state_ ^= rng_state_ << 17;
    wait = static_cast<int64_t>(rng_state_ % static_cast<uint64_t>(ceiling + 1));
  }
  if (last) {
    // What the service asks for wins over our guess (within the cap).
    int64_t asked = -1;
    if (const std::string ms = Header(*last, "x-ms-retry-after-ms"); !ms.empty() && ms.size() < 10 &&
        std::all_of(ms.begin(), ms.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      asked = std::stoll(ms);
    else if (const std::string s = Header(*last, "retry-after"); !s.empty())
      if (int64_t secs = net::ParseRetryAfter(s, env_->NowUnixNanos() / 1'000'000'000); secs >= 0) asked = secs * 1000;
    if (asked >= 0) wait = std::min(asked, options_.backoff_cap_ms * 2);
  }
  return wait;
}

void RestClient::NoteRetry(const RestRequest& r, int attempt, int64_t delay_ms, const std::string& why) {
  if (!options_.span) return;
  options_.span->AddEvent(semconv::kStorageRetryEvent, {{semconv::kStorageOperation, r.operation},
                                                     {semconv::kStorageAttempt, static_cast<int64_t>(attempt)},
                                                     {semconv::kStorageRetryDelayMs, delay_ms},
                                                     {semconv::kExceptionMessage, why}});
}

Result<net::PooledResponse> RestClient::Call(RestRequest request) {
  Counter& counter = CounterFor(request.operation);
  const int64_t deadline = env_->MonotonicNanos() + options_.deadline_ms * 1'000'000;
  const std::string host = endpoint_.HostHeader();
  Status last_error;
  std::optional<net::PooledResponse> last_response;
  for (int attempt = 1;; ++attempt) {
    RestRequest signed_request = request;
    RETURN_IF_ERROR(signer_->Sign(&signed_request, host, env_->NowUnixNanos()));
    net::PooledRequest pr;
    pr.method = signed_request.method;
    pr.target = signed_request.path;
    char sep = '?';
    for (const auto& [k, v] : signed_request.query) {
      pr.target += sep + UriEncode(k, false) + "=" + UriEncode(v, false);
      sep = '&';
    }
    pr.headers = signed_request.headers;
    pr.headers.emplace_back("Host", host);
    pr.body = signed_request.body;
    pr.timeout_ms = options_.timeout_ms;
    counter.requests++;
    counter.sent += signed_request.body.size;
    auto response = pool_.Send(pr);
    std::string why;
    if (!response.ok()) {
      why = response.status().message();
      last_error = response.status();
      if (response.status().code() != ErrorCode::kIOError) return response.status();
    } else {
      counter.received += response->body.size();
      const bool ok = response->status >= 200 && response->status < 300;
      if (ok && request.expect_body_bytes >= 0 && static_cast<int64_t>(response->body.size()) != request.expect_body_bytes) {
        why = request.operation + " returned " + std::to_string(response->body.size()) + " of " +
              std::to_string(request.expect_body_bytes) + " bytes (cut short)";
        last_error = Status::IOError(why);
        last_response.reset();
      } else if (!Retryable(response->status)) {
        if (!ok) counter.failures++;
        response->attempts = attempt;
        return std::move(*response);
      } else {
        why = "HTTP " + std::to_string(response->status) + " " + ServiceErrorText(*response);
        last_error = Status::IOError(why);
        last_response = std::move(*response);
      }
    }
    const int64_t delay = BackoffMs(attempt, last_response ? &*last_response : nullptr);
    const bool out_of_time = env_->MonotonicNanos() + delay * 1'000'000 >= deadline;
    if (attempt >= options_.max_attempts || out_of_time) {
      counter.failures++;
      if (last_response) {
        last_response->attempts = attempt;
        return std::move(*last_response);
      }
      return last_error.WithContext("after " + std::to_string(attempt) + (attempt == 1 ? " attempt" : " attempts"));
    }
    counter.retries++;
    NoteRetry(request, attempt, delay, why);
    if (!SleepUnlessInterrupted(delay * 1'000'000)) return InterruptedStatus("a storage request's retry");
  }
}

std::string ServiceErrorText(const net::PooledResponse& response) {
  pugi::xml_document doc;
  if (response.body.empty() || !doc.load_buffer(response.body.data(), response.body.size())) {
    // HEAD answers carry no body; Azure names the error in a header.
    auto it = response.headers.find("x-ms-error-code");
    return it == response.headers.end() ? "" : it->second;
  }
  const pugi::xml_node error = doc.child("Error");
  std::string code = error.child_value("Code");
  std::string message = error.child_value("Message");
  message = message.substr(0, message.find('\n'));
  if (message.size() > 200) message = message.substr(0, 200) + "...";
  return message.empty() ? code : code + ": " + message;
}

Result<uint64_t> ContentLengthOf(const std::string& what, const net::PooledResponse& response) {
  auto it = response.headers.find("content-length");
  if (it == response.headers.end() || it->second.empty() || it->second.size() > 19 ||
      it->second.find_first_not_of("0123456789") != std::string::npos)
    return Status::IOError(what + ": the answer has no Content-Length");
  return std::strtoull(it->second.c_str(), nullptr, 10);
}

std::string ByteRange(uint64_t offset, uint64_t length) {
  return "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
}

Status StatusFromResponse(const std::string& what, const net::PooledResponse& response) {
  const int s = response.status;
  const std::string text = ServiceErrorText(response);
  std::string message = what + ": HTTP " + std::to_string(s) + (text.empty() ? "" : " " + text);
  if (response.attempts > 1) message += " (after " + std::to_string(response.attempts) + " attempts)";
  if (s == 401 || s == 403) {
    // A refused signature or key is different from a key that may not do this.
    static const char* kRefused[] = {"AuthenticationFailed", "SignatureDoesNotMatch", "InvalidAccessKeyId",
                                     "ExpiredToken", "InvalidToken", "InvalidAuthenticationInfo",
                                     "InvalidClientTokenId", "TokenRefreshRequired"};
    // (Azurite names a bad Shared Key signature AuthorizationFailure.)
    const bool refused = s == 401 || text.find("failed to authenticate") != std::string::npos;
    for (const char* code : kRefused)
      if (text.rfind(code, 0) == 0 || refused)
        return Status::Unauthenticated(message + " (the credentials were refused: check the key, token or SAS)");
    return Status::PermissionDenied(message + " (the credentials do not allow this)");
  }
  if (s == 404) return Status::NotFound(message);
  if (s == 409 || s == 412) return Status::AlreadyExists(message);
  return Status::IOError(message);
}

}  // namespace backspan::object
