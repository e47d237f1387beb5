// Content decoding (gzip, deflate, br, lists of them) within a bound.
#include "fuzz.h"
#include "http/content_coding.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kCodings[] = {"gzip", "deflate", "br", "gzip, br", "x-gzip", "identity", "deflate, gzip"};
  const char* coding = kCodings[data[0] % 7];
  const size_t limit = 1 << 20;
  auto out = backspan::http::DecodeContent(std::string(backspan::fuzz::Text(data + 1, size - 1)), coding, limit);
  BACKSPAN_FUZZ_CHECK(out.body.size() <= limit);
  return 0;
}
