// Request bodies sent with Content-Encoding (RFC 9110 §8.4): gzip, deflate
// and br are undone here, with the decoded size bounded as it grows, so a
// small compressed bomb stops at the limit instead of filling memory.
#pragma once

#include <string>
#include <string_view>

namespace backspan::http {

struct DecodedBody {
  enum class Outcome {
    kOk,
    kTooLarge,     // the decoded body would pass the limit
    kMalformed,    // not valid data of its coding (or truncated)
    kUnsupported,  // a coding other than gzip, x-gzip, deflate, br or identity
  };
  Outcome outcome = Outcome::kOk;
  std::string body;
  std::string error;  // for kMalformed and kUnsupported: which coding, and why
};

// Undoes `content_encoding` (a comma-separated list, applied in order, so
// undone from the last) on `body`; the result is at most `limit` bytes.
DecodedBody DecodeContent(std::string body, std::string_view content_encoding, size_t limit);

}  // namespace backspan::http
