#include "http/request_parser.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "http/url.h"
#include "util/text.h"

namespace backspan::http {
namespace {

constexpr size_t kMaxLeadingEmptyLines = 8;
constexpr size_t kMaxChunkLineBytes = 4096;

bool IsTokenChar(unsigned char c) {
  if (std::isalnum(c)) return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); });
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The comma-separated elements of every field named `name`, trimmed, in
// lower case, empty ones left out (RFC 9110 §5.6.1).
std::vector<std::string> ListElements(const Headers& headers, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& h : headers.all()) {
    if (h.name.size() != name.size() || AsciiLower(h.name) != AsciiLower(name)) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      const size_t comma = v.find(',');
      std::string_view item = TrimOws(v.substr(0, comma));
      if (!item.empty()) out.push_back(AsciiLower(item));
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
  }
  return out;
}

// A Content-Length element: 1*DIGIT that fits in 63 bits.
bool ParseLength(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

void RequestParser::Reset() {
  const ParserLimits limits = limits_;
  *this = RequestParser(limits);
}

bool RequestParser::Fail(int status, std::string why) {
  state_ = State::kError;
  error_status_ = status;
  error_ = std::move(why);
  keep_alive_ = false;
  return false;
}

void RequestParser::BodyTooLarge() {
  request_.body_too_large = true;
  request_.body.clear();
  request_.body.shrink_to_fit();
  keep_alive_ = false;  // the rest of the body is never read
  state_ = State::kComplete;
}

void RequestParser::LimitBody(uint64_t max_body_bytes) {
  if (max_body_bytes == 0 || max_body_bytes >= limits_.max_body_bytes) return;
  limits_.max_body_bytes = max_body_bytes;
  if (state_ == State::kBody && !chunked_ && content_length_ > max_body_bytes) BodyTooLarge();
}

size_t RequestParser::Feed(std::string_view data) {
  size_t used = 0;
  if (state_ == State::kHead) used = FeedHead(data);
  if (state_ == State::kBody && used < data.size()) used += FeedBody(data.substr(used));
  return used;
}

size_t RequestParser::FeedHead(std::string_view data) {
  head_.append(data.data(), data.size());
  // Empty lines before the request line are ignored (RFC 9112 §2.2), a few.
  while (head_.size() >= 2 && head_.compare(0, 2, "\r\n") == 0) {
    head_.erase(0, 2);
    head_scanned_ = 0;
    if (++empty_lines_ > kMaxLeadingEmptyLines)
      return (Fail(400, "too many empty lines before the request line"), data.size());
  }
  for (size_t i = head_scanned_; i < head_.size(); ++i) {
    // Past the limit nothing is looked at, so the answer does not depend on
    // how the bytes were split across reads.
    if (i >= limits_.max_head_bytes)
      return (Fail(431, "the request's header fields are larger than the limit of " +
                            std::to_string(limits_.max_head_bytes) + " bytes"), data.size());
    const char c = head_[i];
    if (c == '\n' && (i == 0 || head_[i - 1] != '\r'))
      return (Fail(400, "a header line ends with LF alone: HTTP lines end with CRLF"), data.size());
    if (c == '\r' && i + 1 < head_.size() && head_[i + 1] != '\n')
      return (Fail(400, "a header line holds a CR that is not followed by LF"), data.size());
    if (c == '\n' && i >= 3 && head_.compare(i - 3, 4, "\r\n\r\n") == 0) {
      const size_t end = i + 1;
      const size_t leftover = head_.size() - end;
      head_.resize(end);
      head_.shrink_to_fit();
      const size_t used = data.size() - leftover;
      if (!ParseHead()) return data.size();
      return used;
    }
  }
  // A CR last is checked again with the byte after it, when that arrives.
  head_scanned_ = head_.size() - (!head_.empty() && head_.back() == '\r');
  return data.size();
}

bool RequestParser::ParseRequestLine(std::string_view line) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return Fail(400, "the request line is not METHOD TARGET HTTP/1.1");
  const std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                         version = line.substr(sp2 + 1);
  if (!IsToken(method) || method.size() > 32) return Fail(400, "the request method is not a token");
  if (version == "HTTP/1.1") request_.minor_version = 1;
  else if (version == "HTTP/1.0") request_.minor_version = 0;
  else if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && std::isdigit(static_cast<unsigned char>(version[5])) &&
           version[6] == '.' && std::isdigit(static_cast<unsigned char>(version[7])))
    return Fail(400, "HTTP version " + std::string(version.substr(5)) + " is not spoken here: send HTTP/1.1 (OTLP/HTTP)");
  else return Fail(400, "the request line does not end with an HTTP version");
  if (target.size() > limits_.max_target_bytes)
    return Fail(414, "the request target is longer than " + std::to_string(limits_.max_target_bytes) + " bytes");
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return Fail(400, "the request target holds a control character");
  auto parsed = ParseTarget(target);
  if (!parsed) return Fail(400, "the request target is not a path (or an absolute http URL)");
  request_.method = std::string(method);
  request_.target = std::string(target);
  request_.path = std::move(parsed->path);
  request_.params = ParseQuery(parsed->query);
  return true;
}

bool RequestParser::ParseHead() {
  std::string_view rest = head_;
  const size_t eol = rest.find("\r\n");
  if (!ParseRequestLine(rest.substr(0, eol))) return false;
  rest.remove_prefix(eol + 2);
  while (true) {
    const size_t end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end + 2);
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') return Fail(400, "obsolete line folding in the header fields");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Fail(400, "a header line has no field name");
    const std::string_view name = line.substr(0, colon);
    if (!IsToken(name))
      return Fail(400, name.back() == ' ' || name.back() == '\t' ? "whitespace between a field name and its colon"
                                                                : "a header field name is not a token");
    const std::string_view value = TrimOws(line.substr(colon + 1));
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return Fail(400, "header field " + std::string(name) + " holds a control character");
    if (request_.headers.all().size() >= limits_.max_header_fields)
      return Fail(431, "more than " + std::to_string(limits_.max_header_fields) + " header fields");
    request_.headers.Add(std::string(name), std::string(value));
  }
  head_.clear();
  head_.shrink_to_fit();
  return ParseFraming();
}

bool RequestParser::ParseFraming() {
  const Headers& h = request_.headers;
  const bool http10 = request_.minor_version == 0;
  if (!http10 && h.Count("Host") != 1)
    return Fail(400, h.Count("Host") == 0 ? "an HTTP/1.1 request needs a Host header" : "more than one Host header");
  if (h.Has("Transfer-Encoding")) {
    if (http10) return Fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (h.Has("Content-Length"))
      return Fail(400, "the request has both Transfer-Encoding and Content-Length: its length is ambiguous");
    const std::vector<std::string> codings = ListElements(h, "Transfer-Encoding");
    if (codings.empty() || codings.back() != "chunked") return Fail(400, "Transfer-Encoding must end with chunked");
    if (codings.size() > 1)
      return codings[0] == "chunked" ? Fail(400, "chunked is applied more than once")
                                     : Fail(400, "transfer coding '" + codings[0].substr(0, 32) + "' is not supported: send chunked alone");
    chunked_ = true;
  } else if (h.Has("Content-Length")) {
    std::vector<std::string> values = ListElements(h, "Content-Length");
    if (values.empty()) return Fail(400, "Content-Length is empty");
    for (const auto& v : values) {
      uint64_t n;
      if (!ParseLength(v, &n)) return Fail(400, "Content-Length '" + v.substr(0, 32) + "' is not a number of bytes");
      if (v != values[0])
        return Fail(400, "conflicting Content-Length headers (" + values[0].substr(0, 20) + " and " + v.substr(0, 20) + ")");
      content_length_ = n;
    }
  }
  if (h.Has("Expect")) {
    if (AsciiLower(TrimOws(h.Get("Expect"))) != "100-continue")
      return Fail(417, "the expectation '" + h.Get("Expect").substr(0, 64) + "' is not supported");
    expect_continue_ = true;
  }
  keep_alive_ = !http10;
  for (const auto& token : ListElements(h, "Connection")) {
    if (token == "close") keep_alive_ = false;
    else if (token == "keep-alive" && http10) keep_alive_ = true;
  }
  if (chunked_) {
    state_ = State::kBody;
  } else if (content_length_ > limits_.max_body_bytes) {
    BodyTooLarge();
  } else if (content_length_ == 0) {
    state_ = State::kComplete;
  } else {
    request_.body.reserve(content_length_);
    state_ = State::kBody;
  }
  return true;
}

size_t RequestParser::FeedBody(std::string_view data) {
  if (chunked_) return FeedChunked(data);
  const size_t take = static_cast<size_t>(std::min<uint64_t>(content_length_ - body_received_, data.size()));
  request_.body.append(data.data(), take);
  body_received_ += take;
  if (body_received_ == content_length_) state_ = State::kComplete;
  return take;
}

bool RequestParser::TakeLine(std::string_view data, size_t* used) {
  const size_t nl = data.find('\n');
  const size_t take = nl == std::string_view::npos ? data.size() : nl + 1;
  line_.append(data.data(), take);
  *used = take;
  if (line_.size() > kMaxChunkLineBytes) return Fail(400, "a line of the chunked body is longer than 4096 bytes");
  if (nl == std::string_view::npos) return false;
  if (line_.size() < 2 || line_[line_.size() - 2] != '\r')
    return Fail(400, "a line of the chunked body ends with LF alone");
  line_.resize(line_.size() - 2);
  if (line_.find('\r') != std::string::npos) return Fail(400, "a line of the chunked body holds a CR");
  return true;
}

size_t RequestParser::FeedChunked(std::string_view data) {
  size_t used = 0;
  while (used < data.size() && state_ == State::kBody) {
    if (chunk_state_ == Chunk::kData) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(chunk_left_, data.size() - used));
      request_.body.append(data.data() + used, take);
      used += take;
      chunk_left_ -= take;
      body_received_ += take;
      if (chunk_left_ == 0) chunk_state_ = Chunk::kDataEnd;
      continue;
    }
    size_t n = 0;
    const bool line = TakeLine(data.substr(used), &n);
    used += n;
    if (state_ == State::kError) return data.size();
    if (!line) continue;
    if (chunk_state_ == Chunk::kDataEnd) {
      if (!line_.empty()) return (Fail(400, "a chunk is longer than its declared size"), data.size());
      chunk_state_ = Chunk::kSize;
    } else if (chunk_state_ == Chunk::kSize) {
      size_t digits = 0;
      uint64_t size = 0;
      while (digits < line_.size() && std::isxdigit(static_cast<unsigned char>(line_[digits]))) {
        if (digits == 15) return (Fail(400, "a chunk size has more than 15 hex digits"), data.size());
        const char c = line_[digits++];
        size = size * 16 + static_cast<uint64_t>(std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10);
      }
      std::string_view ext = TrimOws(std::string_view(line_).substr(digits));
      if (digits == 0 || (!ext.empty() && ext[0] != ';')) return (Fail(400, "a chunk size is not a hex number"), data.size());
      if (size > limits_.max_body_bytes - body_received_) return (BodyTooLarge(), used);
      if (size == 0) chunk_state_ = Chunk::kTrailer;
      else chunk_left_ = size, chunk_state_ = Chunk::kData;
    } else {  // a trailer field, or the empty line that ends the body
      if (line_.empty()) state_ = State::kComplete;
      else if ((trailer_bytes_ += line_.size()) > limits_.max_head_bytes)
        return (Fail(431, "the trailer fields are larger than the header limit"), data.size());
    }
    line_.clear();
  }
  return used;
}

}  // namespace backspan::http
