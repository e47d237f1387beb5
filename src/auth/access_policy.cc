#include "auth/access_policy.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "util/text.h"

namespace backspan::auth {
namespace {

using nlohmann::json;

const std::vector<std::string>& AllPermissions() {
  static const std::vector<std::string> kAll = {kRead, kIngest, kTrigger, kAcknowledge, kPolicies, kForget, kRoles, kAudit};
  return kAll;
}

// The built-in roles, each everything the one before may do and more.
std::vector<std::pair<std::string, std::vector<std::string>>> BuiltInRoles() {
  std::vector<std::string> reader = {kRead};
  std::vector<std::string> op = reader;
  op.insert(op.end(), {kIngest, kTrigger, kAcknowledge});
  std::vector<std::string> contributor = op;
  contributor.insert(contributor.end(), {kPolicies, kForget});
  return {{"Backup Reader", reader}, {"Backup Operator", op}, {"Backup Contributor", contributor}, {"Owner", AllPermissions()}};
}

std::string Text(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// A claim as a list: an array of strings, or one string.
std::vector<std::string> List(const json& claims, const std::string& key) {
  std::vector<std::string> out;
  if (key.empty()) return out;
  auto it = claims.find(key);
  if (it == claims.end()) return out;
  if (it->is_string()) out.push_back(it->get<std::string>());
  if (it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

Result<AccessScope> ParseScope(const json& s, const std::string& where) {
  AccessScope scope;
  if (s.is_string() && s.get<std::string>() == "*") {
    scope.all = true;
    return scope;
  }
  if (!s.is_object()) return Status::InvalidArgument(where + ": scope must be \"*\" or {\"resource_groups\": [...], \"tags\": {...}}");
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (it.key() == "resource_groups" && it->is_array()) {
      for (const auto& g : *it) {
        if (!g.is_string() || g.get<std::string>().empty()) return Status::InvalidArgument(where + ": a resource group is not a name");
        scope.resource_groups.push_back(AsciiLower(g.get<std::string>()));
      }
    } else if (it.key() == "tags" && it->is_object()) {
      for (auto t = it->begin(); t != it->end(); ++t) {
        if (!t->is_string()) return Status::InvalidArgument(where + ": tag " + t.key() + " is not a string");
        scope.tags.emplace_back(t.key(), t->get<std::string>());
      }
    } else {
      return Status::InvalidArgument(where + ": unknown scope field '" + it.key() + "'");
    }
  }
  if (scope.empty()) return Status::InvalidArgument(where + ": the scope names no resource group or tag");
  return scope;
}

void Merge(AccessScope& into, const AccessScope& s) {
  into.all = into.all || s.all;
  for (const auto& g : s.resource_groups)
    if (std::find(into.resource_groups.begin(), into.resource_groups.end(), g) == into.resource_groups.end())
      into.resource_groups.push_back(g);
  for (const auto& t : s.tags)
    if (std::find(into.tags.begin(), into.tags.end(), t) == into.tags.end()) into.tags.push_back(t);
}

}  // namespace

std::string AccessScope::Describe() const {
  if (all) return "*";
  std::string out;
  for (const auto& g : resource_groups) out += (out.empty() ? "rg:" : ",rg:") + g;
  for (const auto& [k, v] : tags) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

Principal PrincipalFromClaims(const std::string& claims_json, const std::string& issuer, const ClaimsMapping& m) {
  Principal p;
  p.issuer = issuer;
  json c = json::parse(claims_json, nullptr, false);
  if (!c.is_object()) return p;
  p.subject = Text(c, m.subject.c_str());
  p.name = Text(c, m.name.c_str());
  p.app = Text(c, m.app.c_str());
  p.tenant = Text(c, m.tenant.c_str());
  p.groups = List(c, m.groups);
  p.roles = List(c, m.roles);
  return p;
}

Result<AccessPolicy> AccessPolicy::Parse(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object()) return Status::InvalidArgument("the access configuration is not a JSON object");
  AccessPolicy policy;
  for (auto& [name, perms] : BuiltInRoles()) policy.roles_.push_back({name, perms});
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    if (key == "claims") {
      if (!it->is_object()) return Status::InvalidArgument("claims must be an object");
      ClaimsMapping& m = policy.claims_;
      for (auto [field, target] : {std::pair{"subject", &m.subject}, std::pair{"name", &m.name}, std::pair{"groups", &m.groups},
                                   std::pair{"roles", &m.roles}, std::pair{"app", &m.app}, std::pair{"tenant", &m.tenant}})
        if (it->contains(field)) *target = Text(*it, field);
    } else if (key == "tenant") {
      policy.tenant_ = it->is_string() ? it->get<std::string>() : "";
    } else if (key == "roles") {
      if (!it->is_object()) return Status::InvalidArgument("roles must be an object of role name to permissions");
      for (auto r = it->begin(); r != it->end(); ++r) {
        if (policy.FindRole(r.key())) return Status::InvalidArgument("role '" + r.key() + "' is defined twice or is built in");
        Role role{r.key(), {}};
        if (!r->is_array()) return Status::InvalidArgument("role '" + r.key() + "': permissions must be an array");
        for (const auto& p : *r) {
          std::string perm = p.is_string() ? p.get<std::string>() : "";
          const auto& all = AllPermissions();
          if (std::find(all.begin(), all.end(), perm) == all.end())
            return Status::InvalidArgument("role '" + r.key() + "': unknown permission '" + perm + "'");
          role.permissions.push_back(perm);
        }
        policy.roles_.push_back(std::move(role));
      }
    } else if (key != "assignments" && key != "comment") {
      return Status::InvalidArgument("unknown field '" + key + "' in the access configuration");
    }
  }
  auto assignments = doc.find("assignments");
  if (assignments != doc.end()) {
    if (!assignments->is_array()) return Status::InvalidArgument("assignments must be an array");
    size_t i = 0;
    for (const auto& a : *assignments) {
      const std::string where = "assignment " + std::to_string(++i);
      if (!a.is_object()) return Status::InvalidArgument(where + " is not an object");
      const std::string principal = Text(a, "principal");
      const size_t colon = principal.find(':');
      Assignment as;
      as.kind = colon == std::string::npos ? "" : principal.substr(0, colon);
      as.id = colon == std::string::npos ? "" : principal.substr(colon + 1);
      if (as.id.empty() || (as.kind != "user" && as.kind != "group" && as.kind != "app" && as.kind != "role"))
        return Status::InvalidArgument(where + ": principal must be user:, group:, app: or role: and an id, not '" + principal + "'");
      as.role = Text(a, "role");
      if (!policy.FindRole(as.role)) return Status::InvalidArgument(where + ": unknown role '" + as.role + "'");
      if (!a.contains("scope")) return Status::InvalidArgument(where + ": no scope (\"*\" for everything)");
      auto scope = ParseScope(a["scope"], where);
      if (!scope.ok()) return scope.status();
      as.scope = std::move(*scope);
      policy.assignments_.push_back(std::move(as));
    }
  }
  return policy;
}

const AccessPolicy::Role* AccessPolicy::FindRole(std::string_view name) const {
  for (const auto& r : roles_)
    if (r.name == name) return &r;
  return nullptr;
}

AccessScope AccessPolicy::ScopeFor(const Principal& p, std::string_view permission) const {
  AccessScope out;
  if (!TenantAllowed(p)) return out;
  auto has = [](const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
  };
  for (const auto& a : assignments_) {
    const bool names = (a.kind == "user" && a.id == p.subject) || (a.kind == "group" && has(p.groups, a.id)) ||
                       (a.kind == "app" && a.id == p.app) || (a.kind == "role" && has(p.roles, a.id));
    if (!names) continue;
    const Role* role = FindRole(a.role);
    if (role && has(role->permissions, std::string(permission))) Merge(out, a.scope);
  }
  return out;
}

}  // namespace backspan::auth
