#include "observatory/forward/destination.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "env/env.h"
#include "util/byte_size.h"
#include "util/text.h"

namespace backspan::observatory {
namespace {

// scheme://host[:port]/path, without user info, query or fragment.
std::string UrlLabel(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t host = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = url.find_first_of("?#", host);
  std::string out = url.substr(0, end);
  const size_t path = out.find('/', host);
  const size_t at = out.rfind('@', path == std::string::npos ? out.size() : path);
  if (at != std::string::npos && at >= host) out.erase(host, at + 1 - host);
  return out;
}

bool ValidHeaderName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
      return false;
  return true;
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> ParseHeaderLines(const std::string& text,
                                                                         const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t line_no = 0, pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = std::string(Trim(std::string_view(text).substr(pos, end - pos)));
    pos = end + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    const std::string where = path + ":" + std::to_string(line_no);
    if (colon == std::string::npos) return Status::InvalidArgument(where + ": expected 'Name: value'");
    std::string name(Trim(std::string_view(line).substr(0, colon))), value(Trim(std::string_view(line).substr(colon + 1)));
    if (!ValidHeaderName(name)) return Status::InvalidArgument(where + ": '" + name + "' is not a header name");
    for (char c : value)
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
        return Status::InvalidArgument(where + ": the value of " + name + " holds a control character");
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

Result<ForwardDestination> ParseForwardDestination(const std::string& spec, Env* env) {
  ForwardDestination d;
  std::string rest = spec;
  // Options follow the URL as ",name=value"; a comma elsewhere stays in the URL.
  for (;;) {
    const size_t h = rest.rfind(",headers="), q = rest.rfind(",queue=");
    const size_t at = h == std::string::npos ? q : q == std::string::npos ? h : std::max(h, q);
    if (at == std::string::npos) break;
    const std::string option = rest.substr(at + 1);
    rest.resize(at);
    const std::string value = option.substr(option.find('=') + 1);
    if (option.rfind("headers=", 0) == 0) {
      auto bytes = ReadWholeFile(env, value);
      if (!bytes.ok()) return Status::InvalidArgument("--forward: the headers file " + value + ": " + bytes.status().message());
      auto headers = ParseHeaderLines(std::string(bytes->begin(), bytes->end()), value);
      if (!headers.ok()) return Status::InvalidArgument("--forward: " + headers.status().message());
      d.headers = std::move(*headers);
    } else {
      auto size = ParseByteSize(value);
      if (!size || *size < (1 << 20)) return Status::InvalidArgument("--forward: queue=" + value + " must be a size of at least 1MiB");
      d.queue_bytes = static_cast<uint64_t>(*size);
    }
  }
  if (rest.rfind("http://", 0) != 0 && rest.rfind("https://", 0) != 0)
    return Status::InvalidArgument("--forward: '" + UrlLabel(rest) + "' is not an http:// or https:// URL of an OTLP/HTTP traces endpoint");
  d.url = rest;
  d.label = UrlLabel(rest);
  return d;
}

}  // namespace backspan::observatory
