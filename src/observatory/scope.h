// What a caller may see: every query and every ingest check takes a Scope.
// Until access control is configured every caller has the unrestricted
// scope; roles then narrow it to resource groups and tag selectors.
#pragma once

#include <string>
#include <vector>

#include "observatory/ingest_batch.h"

namespace backspan::observatory {

struct Scope {
  // Everything is visible; the lists below are ignored.
  bool unrestricted = true;
  // Visible: jobs and spans whose azure.resource_group.name is one of these
  // (compared case-insensitively, as Azure compares them)…
  std::vector<std::string> resource_groups;
  // …or that carry one of these KEY=VALUE tags.
  std::vector<Tag> selectors;
  // Whether the observatory's own audit spans (job kind "audit") are
  // visible: only to callers who may read the audit log, whatever their scope.
  bool audit = true;

  static Scope All() { return Scope{}; }
  static Scope Of(std::vector<std::string> groups, std::vector<Tag> selectors) {
    return Scope{false, std::move(groups), std::move(selectors), false};
  }

  // Whether something with this resource group and these attributes
  // (key, value text) is visible.
  bool Allows(const std::string& resource_group, const std::vector<Tag>& tags) const;
  // Whether only resource groups restrict this scope, so precomputed
  // per-group rollups can answer for it.
  bool ByResourceGroupOnly() const { return unrestricted || selectors.empty(); }
};

}  // namespace backspan::observatory
