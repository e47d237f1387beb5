#include "observatory/api/request_params.h"

#include <cmath>
#include <cstdlib>

#include "util/time_format.h"

namespace backspan::observatory {

const std::string* Param(const ApiRequest& req, const char* name) {
  auto it = req.params.find(name);
  return it == req.params.end() || it->second.empty() ? nullptr : &it->second;
}

int64_t TimeParam(const ApiRequest& req, const char* name, int64_t fallback, int64_t now) {
  const std::string* v = Param(req, name);
  if (!v) return fallback;
  if (auto t = ParseRfc3339(*v)) return *t;
  char* end = nullptr;
  double secs = std::strtod(v->c_str(), &end);
  if (end && *end == '\0' && std::isfinite(secs)) return static_cast<int64_t>(secs * 1e9);
  if (auto d = ParseDuration(*v)) return now - *d;
  throw BadParam{std::string(name) + " must be an RFC 3339 time, unix seconds or a duration such as 24h, not '" + *v + "'"};
}

int64_t DurationParam(const ApiRequest& req, const char* name, int64_t fallback) {
  const std::string* v = Param(req, name);
  if (!v) return fallback;
  if (auto d = ParseDuration(*v)) return *d;
  throw BadParam{std::string(name) + " must be a duration such as 90s, 5m or 2h, not '" + *v + "'"};
}

}  // namespace backspan::observatory
