// Integers (and text) in JSON read from outside (repository files, tokens,
// logs, request bodies): a number that is not an integer, or does not fit
// the type it is read into, is an error, never a wrapped value or an
// undefined conversion (what nlohmann's get<T>() does with 1e300 or 3.5);
// a member of the wrong type is an error, never an exception escaping.
// Only translation units that parse JSON include this.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>

namespace backspan {

// Thrown by IntegerField; a nlohmann::json::exception, so the callers'
// existing handlers of malformed documents catch it too.
class BadJsonNumber : public nlohmann::json::exception {
 public:
  explicit BadJsonNumber(const std::string& what) : nlohmann::json::exception(599, what.c_str()) {}
};

// The integer `v` holds, if it is one (not a float, not a string) that fits T.
template <typename T>
std::optional<T> JsonInteger(const nlohmann::json& v) {
  static_assert(std::is_integral_v<T>);
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
    return static_cast<T>(u);
  }
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (i < 0 || static_cast<uint64_t>(i) > static_cast<uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
    } else {
      if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) || i > static_cast<int64_t>(std::numeric_limits<T>::max()))
        return std::nullopt;
    }
    return static_cast<T>(i);
  }
  return std::nullopt;
}

// `d` as an int64 (truncated toward zero) if it is finite and in range;
// numbers read as doubles (text, or JSON floats) pass through here before
// any cast, since casting 1e66 to an integer is undefined.
inline std::optional<int64_t> DoubleToInt64(double d) {
  // 2^63 is exactly representable; every double below it fits.
  if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0)) return std::nullopt;
  return static_cast<int64_t>(d);
}

// Member `key` of `obj` as a T; throws BadJsonNumber if it is missing or is
// not such an integer.
template <typename T>
T IntegerField(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) throw BadJsonNumber(std::string(key) + " is missing");
  if (auto v = JsonInteger<T>(*it)) return *v;
  throw BadJsonNumber(std::string(key) + " is not an integer in range");
}

// The same, with `fallback` when the member is absent.
template <typename T>
T IntegerField(const nlohmann::json& obj, const char* key, T fallback) {
  return obj.contains(key) ? IntegerField<T>(obj, key) : fallback;
}

// Member `key` of `obj` as text: `fallback` when absent (or null), nullopt
// when it is there but not a string (nlohmann's value() would throw).
inline std::optional<std::string> StringField(const nlohmann::json& obj, const char* key, std::string fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace backspan
