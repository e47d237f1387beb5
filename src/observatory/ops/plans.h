// Backup plans: what the observatory may run on request. A plan names a
// repository, its password file, the paths to back up, the tags that place
// it in a resource group (and so in callers' scopes), a retention policy and
// where restores may go. Plans live in a JSON file (`serve --plans`,
// docs/security.md, "Backup plans"); a change of retention is written back.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "observatory/access/scope.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

// The azure.resource_group.name among `tags`, or "".
std::string TaggedResourceGroup(const std::vector<Tag>& tags);
// Whether `scope` reaches something with these tags (its resource group
// is the azure.resource_group.name tag).
bool TagsInScope(const std::vector<Tag>& tags, const Scope& scope);

struct Plan {
  std::string name;
  std::string repository;     // a location, as `backspan -r` takes it
  std::string password_file;  // read by the job, never by the API
  std::vector<std::string> paths;
  std::vector<Tag> tags;       // on the snapshot and every span: azure.resource_group.name=..., env=...
  // The retention policy: forget's options without "--" ("keep-daily" -> "7").
  std::map<std::string, std::string> retention;
  std::string restore_root;    // restores go into new directories below it; empty: no restores

  // Whether `scope` reaches this plan (by its resource group and tags).
  bool InScope(const Scope& scope) const { return TagsInScope(tags, scope); }
  // The plan as the API shows it (no password file).
  std::string ToJson() const;
};

// The arguments of the jobs a plan runs, after the command's name. The
// plan's tags go on every job: on the snapshot and spans of a backup, and
// as the filter that keeps restore's "latest" and forget to the plan's own
// snapshots.
std::vector<std::string> BackupArgs(const Plan& plan);
std::vector<std::string> ForgetArgs(const Plan& plan);  // its retention policy, then prune
std::vector<std::string> RestoreArgs(const Plan& plan, const std::string& snapshot, const std::string& target);

// Checks a retention policy given as a JSON object ({"keep-daily": 7, ...});
// InvalidArgument naming the bad entry.
Result<std::map<std::string, std::string>> ParseRetention(std::string_view json);

// The plans of a plans file's text; InvalidArgument, naming `path`, the
// plan and the field, if it is malformed.
Result<std::vector<Plan>> ParsePlans(std::string_view text, const std::string& path);

class PlanBook {
 public:
  // Loads the plans file. InvalidArgument, naming the plan and field, if it
  // is malformed; the file must exist.
  static Result<std::unique_ptr<PlanBook>> Load(Env* env, const std::string& path);

  // Reads the file again (replicas sharing a store rewrite it: config_mirror.h);
  // the plans stay as they were if it is malformed.
  Status Reload();
  // The plans file.
  const std::string& path() const { return path_; }
  // A copy of the plan named `name`, or NotFound.
  Result<Plan> Find(const std::string& name) const;
  // The plans `scope` reaches, by name.
  std::vector<Plan> InScope(const Scope& scope) const;
  // Replaces a plan's retention policy and writes the file back atomically;
  // NotFound, or IOError with the file unchanged.
  Status SetRetention(const std::string& name, const std::map<std::string, std::string>& retention);

 private:
  PlanBook(Env* env, std::string path) : env_(env), path_(std::move(path)) {}
  std::string Serialize() const;

  Env* env_;
  std::string path_;
  mutable std::mutex mu_;
  std::vector<Plan> plans_;
};

}  // namespace backspan::observatory
