// What a caller may see: every query and every ingest check takes a Scope.
// Until access control is configured every caller has the unrestricted
// scope; roles then narrow it to resource groups and tag selectors.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trace/span_data.h"

namespace backspan::observatory {

// A KEY=VALUE tag: a selector of a scope, and a job's filterable attribute.
using Tag = std::pair<std::string, std::string>;  // key, value

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

  // The one visibility check: whether a job or span with this resource
  // group and these string attributes (key, value) is visible, `audit`
  // saying whether it is the audit log's own. Everything else adapts its
  // input to this: OTLP spans (otlp_scope.h), span attributes
  // (ScopeAllowsAttributes below), stored job rows, sources and plans. The
  // store's SQL (store/sqlite/job_rows.h) states the same rule as a WHERE
  // clause.
  bool Allows(std::string_view resource_group, const std::vector<Tag>& tags, bool audit) const;
  // Whether nothing is hidden from this scope, the audit log included.
  bool AllowsEverything() const { return unrestricted && audit; }
  // Whether only resource groups restrict this scope, so precomputed
  // per-group rollups can answer for it.
  bool ByResourceGroupOnly() const { return unrestricted || selectors.empty(); }
};

// Whether an attribute is one only the audit log's spans carry
// (backspan.audit.*, or job kind "audit").
bool IsAuditAttribute(std::string_view key, std::string_view text_value);

// Scope::Allows for a span's attributes (its resource's merged in).
bool ScopeAllowsAttributes(const Scope& scope, const trace::Attributes& attributes);

}  // namespace backspan::observatory
