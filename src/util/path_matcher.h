// Include/exclude patterns for backup --exclude and restore --include.
//
// A pattern without '/' matches any single path component (so "*.tmp" or
// "node_modules" match at any depth). A pattern with '/' is matched against
// the whole absolute path, and also matches everything below a matching
// directory. Matching uses fnmatch(3) glob syntax: *, ?, [...].
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace backspan {

class PathMatcher {
 public:
  PathMatcher() = default;
  explicit PathMatcher(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}

  // Adds patterns from a file, one per line; blank lines and lines starting
  // with '#' are ignored.
  Status AddPatternFile(const std::string& path);
  void AddPattern(std::string pattern) { patterns_.push_back(std::move(pattern)); }

  bool empty() const { return patterns_.empty(); }

  // True if `path` (absolute, '/'-separated) or one of its ancestors matches.
  bool Matches(std::string_view path) const;

 private:
  std::vector<std::string> patterns_;
};

}  // namespace backspan
