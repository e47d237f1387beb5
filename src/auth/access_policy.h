// Who may do what, where: roles (built-in ones modelled on Azure Backup's,
// and custom ones) bound to principals (users, groups, apps, app roles) at
// scopes (everything, resource groups, tag selectors). Loaded from the
// access configuration file (docs/security.md, "Access control").
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace backspan::auth {

// Permissions, by the names the configuration uses.
inline constexpr const char* kRead = "traces.read";          // jobs, traces, trends, freshness, metrics
inline constexpr const char* kIngest = "traces.write";       // OTLP and /api/v1/ingest/*: what agents need
inline constexpr const char* kTrigger = "jobs.trigger";      // start backup and restore jobs
inline constexpr const char* kAcknowledge = "alerts.acknowledge";
inline constexpr const char* kPolicies = "policies.write";   // backup policies and retention
inline constexpr const char* kForget = "snapshots.forget";   // forget and prune
inline constexpr const char* kRoles = "roles.write";         // role assignments
inline constexpr const char* kAudit = "audit.read";

// Who a verified token says the caller is, after the claims mapping.
struct Principal {
  std::string issuer, subject, name, app, tenant;
  std::vector<std::string> groups, roles;
};

// Which claims hold what: Microsoft Entra ID tokens and generic OIDC differ.
struct ClaimsMapping {
  std::string subject = "sub";  // Entra: "oid" (stable per user across apps)
  std::string name = "name";    // or "preferred_username", "email"
  std::string groups = "groups";
  std::string roles = "roles";  // app roles (Entra) or any list claim
  std::string app = "azp";      // Entra v1: "appid"
  std::string tenant = "tid";
};

// The principal in a token's claims (JSON). Missing claims stay empty.
Principal PrincipalFromClaims(const std::string& claims_json, const std::string& issuer, const ClaimsMapping& mapping);

// Where a permission holds: everything, or these resource groups (compared
// without case) and these KEY=VALUE tags.
struct AccessScope {
  bool all = false;
  std::vector<std::string> resource_groups;
  std::vector<std::pair<std::string, std::string>> tags;
  bool empty() const { return !all && resource_groups.empty() && tags.empty(); }
  // A short text for the audit log: "*", "rg:rg-prod", "env=prod", joined by ",".
  std::string Describe() const;
};

class AccessPolicy {
 public:
  // Parses the access configuration (JSON):
  //   {"claims": {...}, "tenant": "...", "roles": {"Name": ["perm", ...]},
  //    "assignments": [{"principal": "user:SUB" | "group:ID" | "app:ID" | "role:NAME",
  //                     "role": "Backup Reader", "scope": "*" | {"resource_groups": [...], "tags": {"k": "v"}}}]}
  // InvalidArgument, naming the entry, for anything malformed or unknown.
  static Result<AccessPolicy> Parse(std::string_view json);

  // Where `p` holds `permission`: the union over the assignments that name
  // the principal (or one of its groups, its app, its app roles) with a role
  // that grants it. Empty: nowhere.
  AccessScope ScopeFor(const Principal& p, std::string_view permission) const;
  // Whether the token's tenant is acceptable ("tenant" unset: any).
  bool TenantAllowed(const Principal& p) const { return tenant_.empty() || p.tenant == tenant_; }
  const ClaimsMapping& claims() const { return claims_; }

 private:
  struct Role {
    std::string name;
    std::vector<std::string> permissions;
  };
  struct Assignment {
    std::string kind, id, role;
    AccessScope scope;
  };
  const Role* FindRole(std::string_view name) const;

  ClaimsMapping claims_;
  std::string tenant_;
  std::vector<Role> roles_;
  std::vector<Assignment> assignments_;
};

}  // namespace backspan::auth
