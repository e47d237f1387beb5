// The observatory's operations (docs/api.md, "Operations"): backup plans and
// the jobs they run, retention policies, role assignments and the audit log.
// Each handler is called once the caller holds the endpoint's permission
// somewhere; it checks that the scope where it holds reaches what is acted
// on, and answers in JSON.
#pragma once

#include <string>

#include "observatory/api/query_api.h"
#include "observatory/access/scope.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

class AccessControl;
class JobRunner;
class PlanBook;

class OperationsApi {
 public:
  // Any of the three may be null: the endpoints that need it answer 404
  // and say how to configure it.
  OperationsApi(PlanBook* plans, JobRunner* runner, AccessControl* access, Env* env)
      : plans_(plans), runner_(runner), access_(access), env_(env) {}

  // GET /api/v1/plans
  ApiResponse Plans(const Scope& scope) const;
  // POST /api/v1/plans/{name}/{backup|restore|forget}; `body` is restore's
  // {"snapshot": "latest", "target": "relative/dir"} (both optional).
  ApiResponse Trigger(const std::string& plan, const std::string& command, const std::string& body,
                      const Scope& scope, const std::string& subject) const;
  // PUT /api/v1/plans/{name}/retention
  ApiResponse SetRetention(const std::string& plan, const std::string& body, const Scope& scope) const;
  // GET /api/v1/runs, GET /api/v1/runs/{id}
  ApiResponse Runs(const Scope& scope) const;
  ApiResponse Run(const std::string& id, const Scope& scope) const;
  // GET and PUT /api/v1/access: the whole access configuration; only for a
  // scope of everything (an assignment could otherwise grant beyond it).
  ApiResponse GetAccess(const Scope& scope) const;
  ApiResponse PutAccess(const std::string& body, const Scope& scope) const;
  // GET /api/v1/audit?since=&subject=&action=&result=&limit=
  ApiResponse Audit(const ApiRequest& req) const;

 private:
  PlanBook* plans_;
  JobRunner* runner_;
  AccessControl* access_;
  Env* env_;
};

}  // namespace backspan::observatory
