#include "observatory/store/records.h"

#include <algorithm>

namespace backspan::observatory {

std::string SourceKey(const std::string& host, const std::string& service, std::vector<std::string> paths,
                      std::vector<std::string> tags, std::string* joined_paths) {
  std::sort(paths.begin(), paths.end());
  std::sort(tags.begin(), tags.end());
  std::string joined;
  for (const auto& p : paths) joined += (joined.empty() ? "" : " ") + p;
  std::string key = host + "\x1f" + service + "\x1f" + joined + "\x1f";
  for (const auto& t : tags) key += t + ",";
  if (joined_paths) *joined_paths = std::move(joined);
  return key;
}

}  // namespace backspan::observatory
