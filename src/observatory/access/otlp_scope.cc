#include "observatory/access/otlp_scope.h"

#include "trace/semconv.h"

namespace backspan::observatory {

bool ScopeAllowsSpan(const Scope& scope, const OtlpAttributes& resource, const OtlpAttributes& attrs) {
  bool is_audit = false;
  for (const auto& kv : attrs) is_audit = is_audit || IsAuditAttribute(kv.key(), kv.value().string_value());
  if (is_audit && !scope.audit) return false;
  if (scope.unrestricted) return true;  // no need to gather the tags
  std::string rg;
  std::vector<Tag> tags;
  for (const OtlpAttributes* list : {&resource, &attrs})
    for (const auto& kv : *list) {
      if (!kv.value().has_string_value()) continue;
      if (kv.key() == semconv::kAzureResourceGroupName) rg = kv.value().string_value();  // the span's wins
      tags.emplace_back(kv.key(), kv.value().string_value());
    }
  return scope.Allows(rg, tags, is_audit);
}

}  // namespace backspan::observatory
