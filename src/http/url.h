// Request targets: percent-decoding (RFC 3986 §2.1) and query strings as
// browsers and curl write them (application/x-www-form-urlencoded).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace backspan::http {

// `s` with each %XX replaced by its byte, and '+' by a space if
// `plus_is_space`. A '%' not followed by two hex digits stays as it is.
std::string PercentDecode(std::string_view s, bool plus_is_space);

// The parameters of a query string ("a=1&tag=k=v&b"): split at '&', each
// at its first '=' (so a value may hold '='), both sides decoded. A
// parameter without '=' has an empty value; empty parts are skipped.
Params ParseQuery(std::string_view query);

struct Target {
  std::string path;   // decoded
  std::string query;  // raw, after the first '?'
};

// The path and query of a request-target in origin form ("/a?b") or
// absolute form ("http://host/a?b"); "*" is the path "*". nullopt if it is
// neither, or if the decoded path holds a NUL byte.
std::optional<Target> ParseTarget(std::string_view target);

}  // namespace backspan::http
