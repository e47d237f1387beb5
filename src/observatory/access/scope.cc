#include "observatory/access/scope.h"

#include "trace/semconv.h"
#include "util/text.h"

namespace backspan::observatory {

bool Scope::Allows(std::string_view resource_group, const std::vector<Tag>& tags, bool is_audit) const {
  if (is_audit && !audit) return false;  // the audit log's spans are only for those who may read it
  if (unrestricted) return true;
  const std::string rg = AsciiLower(std::string(resource_group));
  for (const auto& g : resource_groups)
    if (!rg.empty() && AsciiLower(g) == rg) return true;
  for (const auto& sel : selectors)
    for (const auto& t : tags)
      if (t == sel) return true;
  return false;
}

bool IsAuditAttribute(std::string_view key, std::string_view text_value) {
  return key.rfind(semconv::kAuditPrefix, 0) == 0 || (key == semconv::kJobKind && text_value == "audit");
}

bool ScopeAllowsAttributes(const Scope& scope, const trace::Attributes& attributes) {
  bool is_audit = false;
  std::string rg;
  std::vector<Tag> tags;
  for (const auto& a : attributes) {
    const auto* text = std::get_if<std::string>(&a.value);
    is_audit = is_audit || IsAuditAttribute(a.key, text ? std::string_view(*text) : std::string_view());
    if (!text) continue;
    if (a.key == semconv::kAzureResourceGroupName) rg = *text;
    tags.emplace_back(a.key, *text);
  }
  return scope.Allows(rg, tags, is_audit);
}

}  // namespace backspan::observatory
