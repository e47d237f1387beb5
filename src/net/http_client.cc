#include "net/http_client.h"
#include "util/text.h"
#include "util/time_format.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

namespace backspan::net {

Result<HttpResponse> Send(const HttpRequest& request) noexcept {
  // scheme://host[:port] and the path (with query) after it.
  size_t scheme_end = request.url.find("://");
  if (scheme_end == std::string::npos) return Status::InvalidArgument("not an http(s) URL: " + request.url);
  size_t path_start = request.url.find('/', scheme_end + 3);
  std::string origin = request.url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : request.url.substr(path_start);

  httplib::Client client(origin);
  if (!client.is_valid()) return Status::InvalidArgument("cannot use URL " + request.url);
  auto timeout = std::chrono::milliseconds(std::max<int64_t>(request.timeout_ms, 1));
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);

  httplib::Request req;
  req.method = request.method;
  req.path = path;
  req.body = request.body;
  for (const auto& [k, v] : request.headers) req.headers.emplace(k, v);
  auto res = client.send(req);
  if (!res) {
    const std::string why = res.error() == httplib::Error::SSLServerVerification
                                ? "the server's TLS certificate does not verify against the trusted CAs "
                                  "(the system's, or SSL_CERT_FILE)"
                                : httplib::to_string(res.error());
    return Status::IOError(request.method + " " + request.url + ": " + why);
  }
  HttpResponse resp;
  resp.status = res->status;
  resp.body = std::move(res->body);
  for (const auto& [k, v] : res->headers) {
    resp.headers[AsciiLower(k)] = v;
  }
  return resp;
}

int64_t ParseRetryAfter(const std::string& value, int64_t now_unix_s) {
  if (value.empty()) return -1;
  bool digits = true;
  for (char c : value) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits) return value.size() > 9 ? -1 : std::stoll(value);
  const std::optional<int64_t> at_ns = ParseHttpDate(value);
  if (!at_ns) return -1;
  const int64_t at = *at_ns / 1'000'000'000;
  return at > now_unix_s ? at - now_unix_s : 0;
}

}  // namespace backspan::net
