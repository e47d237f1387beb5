// The JSON text every API answer is written as: compact, and with any
// invalid UTF-8 a client sent replaced rather than thrown on. Only for the
// API's .cc files, which include nlohmann/json already.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace backspan::observatory {

inline std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace backspan::observatory
