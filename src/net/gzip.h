// gzip (RFC 1952) bodies for HTTP's Content-Encoding: gzip.
#pragma once

#include <string>
#include <string_view>

namespace backspan {

// The gzip of `data`.
std::string Gzip(std::string_view data);

}  // namespace backspan
