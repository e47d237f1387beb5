#include "http/content_coding.h"

#include <brotli/decode.h>
#include <zlib.h>

#include <vector>

#include "util/text.h"

namespace backspan::http {
namespace {

using Outcome = DecodedBody::Outcome;

constexpr size_t kStep = 64 << 10;

// zlib's inflate with `window_bits` (15 + 32: gzip or zlib; 15: zlib; -15: raw).
Outcome Inflate(std::string_view in, int window_bits, size_t limit, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return Outcome::kMalformed;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out->clear();
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const size_t have = out->size();
    if (have >= limit + 1) {
      inflateEnd(&zs);
      return Outcome::kTooLarge;
    }
    const size_t room = std::min(kStep, limit + 1 - have);
    out->resize(have + room);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + have);
    zs.avail_out = static_cast<uInt>(room);
    rc = inflate(&zs, Z_NO_FLUSH);
    out->resize(have + room - zs.avail_out);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK || (zs.avail_in == 0 && zs.avail_out != 0)) {  // an error, or input ended before the stream
      inflateEnd(&zs);
      return Outcome::kMalformed;
    }
  }
  inflateEnd(&zs);
  return out->size() > limit ? Outcome::kTooLarge : Outcome::kOk;
}

Outcome Unbrotli(std::string_view in, size_t limit, std::string* out) {
  BrotliDecoderState* st = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
  if (!st) return Outcome::kMalformed;
  size_t avail_in = in.size();
  const uint8_t* next_in = reinterpret_cast<const uint8_t*>(in.data());
  out->clear();
  BrotliDecoderResult rc = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
  while (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
    const size_t have = out->size();
    if (have >= limit + 1) break;
    const size_t room = std::min(kStep, limit + 1 - have);
    out->resize(have + room);
    size_t avail_out = room;
    uint8_t* next_out = reinterpret_cast<uint8_t*>(out->data() + have);
    rc = BrotliDecoderDecompressStream(st, &avail_in, &next_in, &avail_out, &next_out, nullptr);
    out->resize(have + room - avail_out);
  }
  BrotliDecoderDestroyInstance(st);
  if (out->size() > limit) return Outcome::kTooLarge;
  return rc == BROTLI_DECODER_RESULT_SUCCESS ? Outcome::kOk : Outcome::kMalformed;
}

}  // namespace

DecodedBody DecodeContent(std::string body, std::string_view content_encoding, size_t limit) {
  DecodedBody out;
  std::vector<std::string> codings;
  while (!content_encoding.empty()) {
    const size_t comma = content_encoding.find(',');
    std::string item = AsciiLower(content_encoding.substr(0, comma));
    const size_t b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) codings.push_back(item.substr(b, e - b + 1));
    content_encoding = comma == std::string_view::npos ? std::string_view() : content_encoding.substr(comma + 1);
  }
  if (codings.size() > 4) {
    out.outcome = Outcome::kUnsupported;
    out.error = "more than 4 content codings";
    return out;
  }
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
    const std::string& c = *it;
    if (c == "identity") continue;
    std::string decoded;
    Outcome r;
    if (c == "gzip" || c == "x-gzip") {
      r = Inflate(body, 15 + 32, limit, &decoded);
    } else if (c == "deflate") {
      // HTTP's deflate is zlib's format; some clients send raw deflate.
      r = Inflate(body, 15, limit, &decoded);
      if (r == Outcome::kMalformed) r = Inflate(body, -15, limit, &decoded);
    } else if (c == "br") {
      r = Unbrotli(body, limit, &decoded);
    } else {
      out.outcome = Outcome::kUnsupported;
      out.error = "Content-Encoding '" + c.substr(0, 32) + "' is not supported: send gzip, deflate, br or none";
      return out;
    }
    if (r != Outcome::kOk) {
      out.outcome = r;
      if (r == Outcome::kMalformed) out.error = "the body is not valid " + c + " data (truncated or malformed)";
      return out;
    }
    body = std::move(decoded);
  }
  if (body.size() > limit) {
    out.outcome = Outcome::kTooLarge;
    return out;
  }
  out.body = std::move(body);
  return out;
}

}  // namespace backspan::http
