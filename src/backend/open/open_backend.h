// Opening the backend of a repository location: a local directory, or an
// Azure container or S3 bucket with the credentials the environment names
// (backend/azure/azure_credentials.h, backend/s3/aws_config.h), the
// transport options of the command line, and the job's span for events.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "backend/location.h"
#include "env/env.h"
#include "net/connection_pool.h"

namespace backspan {

namespace trace {
class Span;
}

struct BackendOptions {
  Env* env = nullptr;
  const trace::Span* span = nullptr;  // storage retries become its events
  net::TlsOptions tls;                // --cacert
  bool allow_http = false;            // --insecure-http: plain http beyond loopback
  // -o KEY=VALUE: connections=N (requests in flight, default 8),
  // timeout=DURATION (each read or write, default 60s), retries=N (retries
  // of one request, default 5), part-size=SIZE (of large uploads, default
  // 32MiB, at least 5MiB on S3).
  std::vector<std::pair<std::string, std::string>> extended;
  std::function<const char*(const char*)> getenv;  // std::getenv if unset
};

// Opens the backend at `location`. Credentials missing or malformed, or an
// unknown -o key, are InvalidArgument naming what to set.
Result<std::unique_ptr<Backend>> OpenBackend(const Location& location, const BackendOptions& options);

}  // namespace backspan
