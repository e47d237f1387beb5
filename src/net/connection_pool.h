// Keep-alive HTTP/1.1 connections to one origin, shared by the threads of
// a job (cpp-httplib underneath, OpenSSL for https). The cloud storage
// backends send every request through one pool, so a backup's uploads and
// a restore's ranged reads reuse warm TLS connections instead of paying a
// handshake each. One request per call; retrying is the caller's policy.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/body_source.h"
#include "util/bytes.h"
#include "util/status.h"

namespace backspan::net {

struct TlsOptions {
  std::string ca_file;  // PEM bundle to trust instead of the system's (--cacert); empty: system/SSL_CERT_FILE
};

struct PooledRequest {
  std::string method;
  std::string target;  // path and query, already percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;
  BodySource body;
  int64_t timeout_ms = 60'000;  // connecting, and each read or write of the request
};

struct PooledResponse {
  int status = 0;
  int attempts = 1;  // set by a caller that retried
  std::map<std::string, std::string> headers;  // names in lower case
  Bytes body;  // received into a buffer sized by Content-Length: no regrowth, no copy
};

class ConnectionPool {
 public:
  // `origin` is scheme://host[:port]. At most `max_idle` connections stay
  // open between requests; more may be open while requests run.
  ConnectionPool(std::string origin, TlsOptions tls, size_t max_idle = 16);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Sends `request` on an idle connection (or a new one). Any HTTP status is
  // a response; kIOError means none came (refused, reset, timeout, a body
  // cut short, TLS), and the message says which, without the target's query
  // (it may hold a signature).
  Result<PooledResponse> Send(const PooledRequest& request) noexcept;

  const std::string& origin() const { return origin_; }

 private:
  class Connection;
  std::unique_ptr<Connection> Checkout();
  void Return(std::unique_ptr<Connection> c);

  const std::string origin_;
  const TlsOptions tls_;
  const size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// True if `host` (from a URL, without port) is a loopback name or address:
// plain http is allowed there without --insecure-http.
bool IsLoopbackHost(const std::string& host);

}  // namespace backspan::net
