// The HTTP/1.1 request parser: any bytes, fed in pieces of any size, and
// the same bytes fed at once must give the same request or the same error.
#include <vector>

#include "fuzz.h"
#include "http/request_parser.h"
#include "http/url.h"

using backspan::http::Request;
using backspan::http::RequestParser;

namespace {

struct Outcome {
  std::vector<std::string> summary;  // each request's method, path, body size, or the error
};

Outcome Parse(std::string_view in, size_t step) {
  backspan::http::ParserLimits limits;
  limits.max_head_bytes = 4096;
  limits.max_body_bytes = 1 << 16;
  RequestParser p(limits);
  Outcome out;
  size_t pos = 0;
  while (pos < in.size()) {
    const std::string_view piece = in.substr(pos, step);
    const size_t used = p.Feed(piece);
    BACKSPAN_FUZZ_CHECK(used <= piece.size());
    pos += used;
    if (p.state() == RequestParser::State::kError) {
      out.summary.push_back("error " + std::to_string(p.error_status()));
      return out;
    }
    if (p.state() == RequestParser::State::kComplete) {
      const Request& r = p.request();
      out.summary.push_back(r.method + " " + r.path + " " + std::to_string(r.body.size()) +
                            (r.body_too_large ? " too large" : ""));
      if (r.body_too_large) return out;
      p.Reset();
      continue;
    }
    BACKSPAN_FUZZ_CHECK(used == piece.size());  // an incomplete request takes all it is given
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in = backspan::fuzz::Text(data + 1, size - 1);
  const size_t step = 1 + data[0] % 97;
  BACKSPAN_FUZZ_CHECK(Parse(in, in.size() ? in.size() : 1).summary == Parse(in, step).summary);
  (void)backspan::http::ParseQuery(in);
  (void)backspan::http::ParseTarget(in);
  return 0;
}
