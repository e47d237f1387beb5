// HTTP/1.1 requests and responses as the observatory's server sees them:
// framing is undone (chunked), content codings are not (see
// content_coding.h), and header names compare without case (RFC 9110 §5.1).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace backspan::http {

struct Header {
  std::string name, value;
};

class Headers {
 public:
  void Add(std::string name, std::string value) { list_.push_back({std::move(name), std::move(value)}); }
  // The first value of `name`, in any case, or "".
  const std::string& Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // How many fields named `name` there are.
  size_t Count(std::string_view name) const;
  const std::vector<Header>& all() const { return list_; }

 private:
  std::vector<Header> list_;
};

using Params = std::multimap<std::string, std::string>;

struct Request {
  std::string method;          // as sent: methods are case-sensitive
  std::string target;          // the request-target, as sent
  std::string path;            // percent-decoded, without the query
  Params params;               // the query, decoded; a value keeps every '=' after the first
  int minor_version = 1;       // HTTP/1.minor_version
  Headers headers;
  std::string body;            // after transfer decoding, before content decoding
  std::string remote_addr;
  // The framing declared a body over the server's limit: it was not read,
  // and the connection closes after the answer.
  bool body_too_large = false;
  std::vector<std::string> captures;  // the route's matched groups (router.h)

  // The first value of query parameter `name`, or "".
  const std::string& Param(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<Header> headers;  // beyond Content-Type, Content-Length and Connection

  void Set(int code, std::string content, std::string type) {
    status = code;
    body = std::move(content);
    content_type = std::move(type);
  }
  void AddHeader(std::string name, std::string value) { headers.push_back({std::move(name), std::move(value)}); }
};

// The standard reason phrase of `status` ("Not Found"), or "Unknown".
const char* ReasonPhrase(int status);

// The credentials of an Authorization header using `scheme` ("Bearer"),
// which is compared without case (RFC 9110 §11.1), or "" if the request
// has no such header.
std::string AuthorizationCredentials(const Request& req, std::string_view scheme);

// The status line, headers and body of `res` as sent on the wire; `close`
// adds Connection: close, `head_only` leaves the body out (HEAD).
std::string Serialize(const Response& res, bool close, bool head_only);

}  // namespace backspan::http
