#include "observatory/scope.h"

#include <algorithm>
#include <cctype>

namespace backspan::observatory {

std::string LowerAscii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool Scope::Allows(const std::string& resource_group, const std::vector<Tag>& tags) const {
  if (unrestricted) return true;
  const std::string rg = LowerAscii(resource_group);
  for (const auto& g : resource_groups)
    if (!rg.empty() && LowerAscii(g) == rg) return true;
  for (const auto& sel : selectors)
    for (const auto& t : tags)
      if (t == sel) return true;
  return false;
}

}  // namespace backspan::observatory
