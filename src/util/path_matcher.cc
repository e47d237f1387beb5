#include "util/path_matcher.h"

#include <fnmatch.h>

#include <fstream>

namespace backspan {

Status PathMatcher::AddPatternFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read pattern file " + path);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    patterns_.push_back(line);
  }
  return Status::Ok();
}

static bool MatchOne(const std::string& pattern, std::string_view path) {
  std::string p(path);
  if (pattern.find('/') == std::string::npos) {
    // Component pattern: try every component.
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find('/', start);
      if (end == std::string::npos) end = p.size();
      if (end > start && fnmatch(pattern.c_str(), p.substr(start, end - start).c_str(), 0) == 0)
        return true;
      start = end + 1;
    }
    return false;
  }
  // Path pattern: the path or any ancestor directory must match.
  for (size_t end = p.size(); end > 0; end = p.rfind('/', end - 1)) {
    if (fnmatch(pattern.c_str(), p.substr(0, end).c_str(), FNM_PATHNAME) == 0) return true;
    if (end == 0) break;
  }
  return false;
}

bool PathMatcher::Matches(std::string_view path) const {
  for (const auto& pattern : patterns_)
    if (MatchOne(pattern, path)) return true;
  return false;
}

}  // namespace backspan
