// gzip (RFC 1952) bodies for HTTP's Content-Encoding: gzip.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "util/status.h"

namespace backspan {

// The gzip of `data`.
std::string Gzip(std::string_view data);

// Inflates a gzip body. InvalidArgument if it is not valid gzip; a
// kTooLarge error (ErrorCode::kUnsupported with that message) if it would
// inflate past `max_size` bytes, which stops decompression bombs early.
Result<std::string> Gunzip(std::string_view data, size_t max_size);

// The message Gunzip's over-size error starts with.
inline constexpr const char* kGunzipTooLarge = "the decompressed body is larger than";

}  // namespace backspan
