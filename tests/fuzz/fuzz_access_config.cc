// The access configuration (roles, assignments, scopes, claims mapping),
// and what it then decides for a principal.
#include "auth/access_policy.h"
#include "fuzz.h"

using namespace backspan::auth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto policy = AccessPolicy::Parse(backspan::fuzz::Text(data, size));
  if (!policy.ok()) return 0;
  Principal p = PrincipalFromClaims(R"({"sub":"u1","groups":["g1"],"roles":["r1"],"client_id":"app","tid":"t1"})",
                                    "https://issuer.test", policy->claims());
  (void)policy->TenantAllowed(p);
  for (const char* permission : {kRead, kIngest, kTrigger, kAudit, kRoles})
    (void)policy->ScopeFor(p, permission).Describe();
  return 0;
}
