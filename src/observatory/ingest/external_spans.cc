#include "observatory/ingest/external_spans.h"

#include <cstdio>

#include "crypto/crypto.h"
#include "trace/semconv.h"
#include "util/text.h"
#include "util/time_format.h"

namespace backspan::observatory {
namespace {

crypto::Digest IdDigest(std::string_view ns, std::string_view id) {
  std::string text = "backspan/" + std::string(ns) + "/" + AsciiLower(id);
  return crypto::Sha256(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace

trace::TraceId DerivedTraceId(std::string_view ns, std::string_view id) {
  crypto::Digest d = IdDigest(ns, id);
  trace::TraceId out;
  std::copy(d.begin(), d.begin() + 16, out.begin());
  return out;
}

trace::SpanId DerivedSpanId(std::string_view ns, std::string_view id) {
  crypto::Digest d = IdDigest(ns, id);
  trace::SpanId out;
  std::copy(d.begin() + 16, d.begin() + 24, out.begin());
  return out;
}

int VersionRank(const trace::Attributes& attributes) {
  const trace::AttributeValue* v = trace::FindAttribute(attributes, semconv::kAzureMonitorAlertCondition);
  const std::string* condition = v ? std::get_if<std::string>(v) : nullptr;
  if (!condition) return 0;
  return *condition == "Resolved" ? 2 : 1;
}

std::optional<int64_t> ParseExternalTime(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second, &consumed) != 6)
    return std::nullopt;
  // Checked here: the conversion below would normalize 2026-13-40 into a
  // real date, and a year like 9999 overflows nanoseconds.
  if (year < 1970 || year > 2200 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60)
    return std::nullopt;
  size_t pos = static_cast<size_t>(consumed);
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  if (pos == s.size()) s += 'Z';  // no zone: Log Analytics' datetime columns are UTC
  return ParseRfc3339(s);
}

bool PlausibleTime(int64_t ns, int64_t now_ns) {
  constexpr int64_t kYear2000 = 946'684'800LL * 1'000'000'000;
  constexpr int64_t kDay = 86'400LL * 1'000'000'000;
  return ns >= kYear2000 && ns <= now_ns + kDay;
}

std::vector<std::pair<size_t, std::string_view>> NonBlankLines(std::string_view body) {
  std::vector<std::pair<size_t, std::string_view>> out;
  size_t pos = 0, line = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string_view text = body.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? body.size() : nl + 1;
    ++line;
    if (text.find_first_not_of(" \t\r") != std::string_view::npos) out.emplace_back(line, text);
  }
  return out;
}

std::string ResourceGroupOf(std::string_view resource_id) {
  const std::string lower = AsciiLower(resource_id);
  const std::string key = "/resourcegroups/";
  size_t at = lower.find(key);
  if (at == std::string::npos) return "";
  size_t start = at + key.size();
  size_t end = lower.find('/', start);
  return lower.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace backspan::observatory
