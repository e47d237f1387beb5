#include "observatory/scope.h"
#include "util/text.h"


namespace backspan::observatory {

bool Scope::Allows(const std::string& resource_group, const std::vector<Tag>& tags) const {
  if (unrestricted) return true;
  const std::string rg = AsciiLower(resource_group);
  for (const auto& g : resource_groups)
    if (!rg.empty() && AsciiLower(g) == rg) return true;
  for (const auto& sel : selectors)
    for (const auto& t : tags)
      if (t == sel) return true;
  return false;
}

}  // namespace backspan::observatory
