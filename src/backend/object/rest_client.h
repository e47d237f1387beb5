// RestClient: the requests of one object store's REST API, sent over a
// pool of keep-alive connections, signed on every attempt, and retried the
// way the cloud providers ask: on 408, 429, 500, 502, 503, 504, on a
// connection that failed, stalled or was cut short, with exponential
// backoff and full jitter, honouring Retry-After and x-ms-retry-after-ms,
// within a per-request timeout and an overall deadline. Every request the
// stores send is idempotent (a repeated PUT writes the same bytes; create-
// only writes see their own earlier success as "exists"), so retrying is
// always safe. Each retry is an event on the job's span.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "backend/object/object_store.h"
#include "net/connection_pool.h"
#include "util/bytes.h"
#include "util/status.h"

namespace backspan {
class Env;
namespace trace {
class Span;
}
}  // namespace backspan

namespace backspan::object {

struct RestRequest {
  std::string operation;  // kind, for counts and events: "put", "get", "list", ...
  std::string method;
  std::string path;  // percent-encoded, from the origin's root
  std::vector<std::pair<std::string, std::string>> query;    // names and values, not encoded
  std::vector<std::pair<std::string, std::string>> headers;  // besides Host, which the client sets
  net::BodySource body;
  // A 2xx body must have exactly this many bytes (a ranged read), else it
  // was cut short and the request is retried; -1: any.
  int64_t expect_body_bytes = -1;
};

// Adds the credentials to a request, on each attempt (dates change, tokens
// expire): an Authorization header, or a SAS in the query.
class RequestSigner {
 public:
  virtual ~RequestSigner() = default;
  // `host` is the Host header's value; `now_unix_ns` the attempt's time.
  virtual Status Sign(RestRequest* request, const std::string& host, int64_t now_unix_ns) = 0;
};

struct RestOptions {
  net::TlsOptions tls;
  int64_t timeout_ms = 60'000;    // each connect, read or write of one attempt
  int64_t deadline_ms = 600'000;  // all attempts of one request together
  int max_attempts = 6;  // what the cloud SDKs do (3 to 5 retries); throttling waits as long as it is told
  int64_t backoff_base_ms = 250;  // the first retry waits up to this, doubling each time
  int64_t backoff_cap_ms = 30'000;
  size_t connections = 8;  // keep-alive connections kept open
  Env* env = nullptr;                 // clocks and sleeping; Env::Default() if null
  const trace::Span* span = nullptr;  // gets an event per retry, if set
};

// The pieces of an endpoint URL.
struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // without port
  int port = 0;
  std::string Origin() const;
  std::string HostHeader() const;  // host, with the port unless it is the scheme's default
};

// Parses "scheme://host[:port][/...]". Plain http is refused unless the host
// is a loopback address or `allow_http` (--insecure-http) is set.
Result<Endpoint> ParseEndpoint(const std::string& url, bool allow_http);

// Percent-encodes per RFC 3986 (unreserved characters kept), keeping '/'
// when `keep_slash`: the encoding both AWS SigV4 and Azure expect.
std::string UriEncode(std::string_view text, bool keep_slash);

class RestClient {
 public:
  RestClient(Endpoint endpoint, std::shared_ptr<RequestSigner> signer, RestOptions options);

  // Sends `request`, retrying as above. A response that is not retryable (2xx,
  // 3xx, 4xx but 408 and 429) is returned whatever its status; the last
  // retryable one, or kIOError, once attempts or the deadline run out.
  Result<net::PooledResponse> Call(RestRequest request);

  std::vector<RequestCounts> Counts() const;
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  struct Counter {
    std::atomic<uint64_t> requests{0}, retries{0}, failures{0}, sent{0}, received{0};
  };
  Counter& CounterFor(const std::string& operation);
  // How long to wait before attempt `attempt` (1-based retries), given what
  // the last response asked for.
  int64_t BackoffMs(int attempt, const net::PooledResponse* last);
  void NoteRetry(const RestRequest& r, int attempt, int64_t delay_ms, const std::string& why);

  const Endpoint endpoint_;
  const std::shared_ptr<RequestSigner> signer_;
  const RestOptions options_;
  Env* const env_;
  net::ConnectionPool pool_;
  mutable std::mutex counters_mu_;
  std::map<std::string, std::unique_ptr<Counter>> counters_;
  std::mutex rng_mu_;
  uint64_t rng_state_;
};

// The service's own error code and message from an XML error body
// (<Error><Code>…</Code><Message>…</Message></Error>, as Azure and S3 send).
std::string ServiceErrorText(const net::PooledResponse& response);

// A Status for a failed response: 401/403 kPermissionDenied (or
// kUnauthenticated for a refused signature), 404 kNotFound, 409/412
// kAlreadyExists, anything else kIOError; the message names `what` (an
// object key or the container, never a URL with its query), the status and
// the service's error text.
Status StatusFromResponse(const std::string& what, const net::PooledResponse& response);

// The size a HEAD answer announces in Content-Length; kIOError naming `what`
// if it has none.
Result<uint64_t> ContentLengthOf(const std::string& what, const net::PooledResponse& response);

// "bytes=FIRST-LAST" for `length` > 0 bytes from `offset` (HTTP Range, and
// Azure's x-ms-range).
std::string ByteRange(uint64_t offset, uint64_t length);

}  // namespace backspan::object
