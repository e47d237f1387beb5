#include "http/message.h"

#include <strings.h>

namespace backspan::http {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

const std::string& Headers::Get(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& h : list_)
    if (SameName(h.name, name)) return h.value;
  return kEmpty;
}

bool Headers::Has(std::string_view name) const { return Count(name) > 0; }

size_t Headers::Count(std::string_view name) const {
  size_t n = 0;
  for (const auto& h : list_) n += SameName(h.name, name);
  return n;
}

const std::string& Request::Param(const std::string& name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string AuthorizationCredentials(const Request& req, std::string_view scheme) {
  const std::string& value = req.headers.Get("Authorization");
  if (value.size() <= scheme.size() || value[scheme.size()] != ' ' || !SameName(value.substr(0, scheme.size()), scheme))
    return "";
  size_t start = value.find_first_not_of(' ', scheme.size());
  return start == std::string::npos ? "" : value.substr(start);
}

std::string Serialize(const Response& res, bool close, bool head_only) {
  std::string out;
  out.reserve(160 + res.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += ReasonPhrase(res.status);
  out += "\r\n";
  if (!res.content_type.empty()) out += "Content-Type: " + res.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
  if (close) out += "Connection: close\r\n";
  for (const auto& h : res.headers) out += h.name + ": " + h.value + "\r\n";
  out += "\r\n";
  if (!head_only) out += res.body;
  return out;
}

}  // namespace backspan::http
