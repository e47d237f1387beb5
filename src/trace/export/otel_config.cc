#include "trace/export/otel_config.h"
#include "trace/semconv.h"
#include "util/text.h"

#include <cctype>
#include <cstdlib>

namespace backspan::trace {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The signal-specific variable if set, else the general one.
const char* Pick(const GetEnv& getenv, const char* traces, const char* general, const char** which) {
  if (const char* v = getenv(traces); v && *v) {
    *which = traces;
    return v;
  }
  *which = general;
  const char* v = getenv(general);
  return v && *v ? v : nullptr;
}

}  // namespace

std::string TracesUrlFromBase(const std::string& base) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/v1/traces";
}

Result<OtlpProtocol> ParseOtlpProtocol(const std::string& text) {
  if (text == "http/protobuf") return OtlpProtocol::kProtobuf;
  if (text == "http/json") return OtlpProtocol::kJson;
  if (text == "grpc") return Status::Unsupported("OTLP over gRPC is not supported; use http/protobuf or http/json");
  return Status::InvalidArgument("unknown OTLP protocol '" + text + "' (http/protobuf or http/json)");
}

Result<std::vector<std::pair<std::string, std::string>>> ParseKeyValueList(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() + 1 : comma + 1;
    std::string trimmed = Trim(item);
    if (trimmed.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos || Trim(item.substr(0, eq)).empty()) {
      std::string msg = "'";
      msg.append(trimmed).append("' is not KEY=VALUE");
      return Status::InvalidArgument(msg);
    }
    out.emplace_back(PercentDecode(Trim(item.substr(0, eq))), PercentDecode(Trim(item.substr(eq + 1))));
  }
  return out;
}

Result<OtelConfig> ReadOtelConfig(const GetEnv& getenv) {
  OtelConfig c;
  if (const char* v = getenv("OTEL_SDK_DISABLED")) {
    c.sdk_disabled = AsciiLower(Trim(v)) == "true";
  }
  const char* which = nullptr;
  if (const char* v = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); v && *v) c.traces_url = Trim(v);
  else if (const char* b = getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); b && *b) c.traces_url = TracesUrlFromBase(Trim(b));
  if (!c.traces_url.empty() && c.traces_url.rfind("http://", 0) != 0 && c.traces_url.rfind("https://", 0) != 0)
    return Status::InvalidArgument("the OTLP endpoint must be an http:// or https:// URL, not '" + c.traces_url + "'");

  // Both header variables apply; the traces one wins for the same key.
  for (const char* var : {"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"}) {
    const char* v = getenv(var);
    if (!v || !*v) continue;
    auto kv = ParseKeyValueList(v);
    if (!kv.ok()) return kv.status().WithContext(var);
    for (auto& kv_pair : *kv) {
      std::erase_if(c.headers, [&](const auto& h) { return h.first == kv_pair.first; });
      c.headers.push_back(std::move(kv_pair));
    }
  }
  if (const char* v = Pick(getenv, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL", &which)) {
    auto p = ParseOtlpProtocol(Trim(v));
    if (p.status().code() == ErrorCode::kUnsupported) c.grpc_asked_by = which;
    else if (!p.ok()) return p.status().WithContext(which);
    else c.protocol = *p;
  }
  if (const char* v = Pick(getenv, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT", &which)) {
    char* end = nullptr;
    long long ms = std::strtoll(v, &end, 10);
    if (end == v || *end != '\0' || ms < 0)
      return Status::InvalidArgument(std::string(which) + " must be a number of milliseconds, not '" + v + "'");
    c.timeout_ns = ms * 1'000'000;
  }
  if (const char* v = Pick(getenv, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION", &which)) {
    std::string s = Trim(v);
    if (s == "gzip") c.gzip = true;
    else if (s != "none") return Status::InvalidArgument(std::string(which) + " must be gzip or none, not '" + s + "'");
  }
  if (const char* v = getenv("OTEL_RESOURCE_ATTRIBUTES"); v && *v) {
    auto kv = ParseKeyValueList(v);
    if (!kv.ok()) return kv.status().WithContext("OTEL_RESOURCE_ATTRIBUTES");
    for (auto& [k, val] : *kv) SetAttribute(c.resource_attributes, k, val);
  }
  if (const AttributeValue* sn = FindAttribute(c.resource_attributes, semconv::kServiceName)) c.service_name = AttributeText(*sn);
  if (const char* v = getenv("OTEL_SERVICE_NAME"); v && *v) c.service_name = Trim(v);
  return c;
}

}  // namespace backspan::trace
