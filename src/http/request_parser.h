// An incremental, strict HTTP/1.1 request parser (RFC 9112): fed bytes as
// they arrive, it yields one request at a time. Framing that a proxy and
// this server could read differently is an error, never a guess: bare LF,
// obsolete line folding, whitespace before a colon, conflicting
// Content-Length values, Transfer-Encoding together with Content-Length, a
// transfer coding other than a final chunked. Every refusal is a 4xx:
// bad input is the client's error, even where RFC 9110 offers a 5xx (505,
// 501). It does no I/O, so it can be fuzzed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.h"

namespace backspan::http {

struct ParserLimits {
  size_t max_head_bytes = 64 << 10;  // the request line and header fields together (else 431)
  size_t max_header_fields = 128;    // (else 431)
  size_t max_target_bytes = 8 << 10; // (else 414)
  uint64_t max_body_bytes = 20 << 20;
};

class RequestParser {
 public:
  enum class State {
    kHead,      // reading the request line and header fields
    kBody,      // reading the body
    kComplete,  // request() is whole
    kError,     // error_status() says what to answer; the connection must close
  };

  explicit RequestParser(ParserLimits limits) : limits_(limits) {}

  // Parses what of `data` belongs to the current request and returns how
  // many bytes that was: once complete, the rest is the next request's.
  size_t Feed(std::string_view data);

  State state() const { return state_; }
  // The request line and header fields are parsed (request() has them).
  bool head_done() const { return state_ == State::kBody || state_ == State::kComplete; }
  // The client sent Expect: 100-continue and waits for it before the body.
  bool expects_continue() const { return expect_continue_ && state_ == State::kBody; }
  // Whether the connection may carry another request after this one.
  bool keep_alive() const { return keep_alive_; }
  // The body's Content-Length (0 when chunked or absent).
  uint64_t declared_length() const { return chunked_ ? 0 : content_length_; }
  // Body bytes received so far (for rate limits).
  uint64_t body_received() const { return body_received_; }
  // Bytes of the current request held in memory, head and body.
  size_t buffered_bytes() const { return head_.size() + request_.body.size() + line_.size(); }

  int error_status() const { return error_status_; }  // 400, 414, 417 or 431
  const std::string& error() const { return error_; }

  // Lowers the body limit for this request once its head is known (a
  // route's own limit); a declared length over it is not read.
  void LimitBody(uint64_t max_body_bytes);

  Request& request() { return request_; }
  // Makes the parser ready for the next request on the same connection.
  void Reset();

 private:
  enum class Chunk { kSize, kData, kDataEnd, kTrailer };

  size_t FeedHead(std::string_view data);
  size_t FeedBody(std::string_view data);
  size_t FeedChunked(std::string_view data);
  // Parses head_ (which ends with the empty line); false on error.
  bool ParseHead();
  bool ParseRequestLine(std::string_view line);
  bool ParseFraming();
  // Takes a line of the chunked framing into line_; true once it has one.
  bool TakeLine(std::string_view data, size_t* used);
  bool Fail(int status, std::string why);
  void BodyTooLarge();

  ParserLimits limits_;
  State state_ = State::kHead;
  Request request_;
  std::string head_;
  std::string line_;  // a chunk-size or trailer line being read
  size_t head_scanned_ = 0;
  size_t empty_lines_ = 0;  // skipped before the request line
  bool chunked_ = false, expect_continue_ = false, keep_alive_ = true;
  uint64_t content_length_ = 0, body_received_ = 0, chunk_left_ = 0, trailer_bytes_ = 0;
  Chunk chunk_state_ = Chunk::kSize;
  int error_status_ = 0;
  std::string error_;
};

}  // namespace backspan::http
