// Backup plans and the jobs the observatory runs for them: the plans file's
// checks, the arguments each job gets, scopes, and a run's ingest token
// (good in the plan's scope, only while the run lasts).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "env/env.h"
#include "observatory/ops/job_runner.h"
#include "observatory/ops/plans.h"
#include "test_util.h"

namespace backspan::observatory {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

const char* kPlans = R"({"plans": [
  {"name": "prod-files", "repository": "/srv/repo", "password_file": "/etc/pw", "paths": ["/srv/data"],
   "tags": {"azure.resource_group.name": "rg-prod", "env": "prod"}, "retention": {"keep-daily": 7, "keep-within": "1y"},
   "restore_root": "/srv/restores"},
  {"name": "dev", "repository": "/srv/dev", "password_file": "/etc/pw", "paths": ["/srv/dev-data"],
   "tags": {"env": "dev"}}]})";

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(PlansTest, LoadsChecksAndScopes) {
  TempDir dir;
  WriteFile(dir.Sub("plans.json"), kPlans);
  auto book = PlanBook::Load(Env::Default(), dir.Sub("plans.json"));
  ASSERT_TRUE(book.ok()) << book.status().message();
  auto prod = (*book)->Find("prod-files");
  ASSERT_TRUE(prod.ok());
  EXPECT_TRUE(prod->InScope(Scope::Of({"RG-PROD"}, {})));  // resource groups compare without case
  EXPECT_TRUE(prod->InScope(Scope::Of({}, {{"env", "prod"}})));
  EXPECT_FALSE(prod->InScope(Scope::Of({"rg-dev"}, {{"env", "dev"}})));
  EXPECT_EQ((*book)->InScope(Scope::Of({}, {{"env", "dev"}})).size(), 1u);
  EXPECT_EQ(prod->ToJson().find("password_file"), std::string::npos);
  EXPECT_EQ((*book)->Find("nope").status().code(), ErrorCode::kNotFound);

  const std::vector<std::string> backup = {"--tag", "azure.resource_group.name=rg-prod", "--tag", "env=prod", "--", "/srv/data"};
  EXPECT_EQ(BackupArgs(*prod), backup);
  const std::vector<std::string> forget = {"--tag", "azure.resource_group.name=rg-prod", "--tag", "env=prod",
                                           "--keep-daily", "7", "--keep-within", "1y", "--prune"};
  EXPECT_EQ(ForgetArgs(*prod), forget);
  auto restore = RestoreArgs(*prod, "latest", "/srv/restores/r1");
  EXPECT_EQ(restore.back(), "latest");
  EXPECT_EQ(restore[restore.size() - 2], "--");  // a snapshot argument is never read as an option

  // A retention change is written back, and read again as written.
  auto retention = ParseRetention(R"({"keep-last": 3, "keep-monthly": "unlimited"})");
  ASSERT_TRUE(retention.ok());
  ASSERT_TRUE((*book)->SetRetention("prod-files", *retention).ok());
  auto again = PlanBook::Load(Env::Default(), dir.Sub("plans.json"));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ((*again)->Find("prod-files")->retention, *retention);
  EXPECT_EQ((*again)->Find("dev")->paths, std::vector<std::string>{"/srv/dev-data"});
}

TEST(PlansTest, RefusesMalformedPlansAndPolicies) {
  TempDir dir;
  const std::pair<const char*, const char*> bad[] = {
      {R"({"plans": [{"name": "a b", "repository": "r", "password_file": "p", "paths": ["/x"]}]})", "name"},
      {R"({"plans": [{"name": "a", "password_file": "p", "paths": ["/x"]}]})", "'repository' is missing"},
      {R"({"plans": [{"name": "a", "repository": "r", "password_file": "p", "paths": ["x"]}]})", "absolute"},
      {R"({"plans": [{"name": "a", "repository": "r", "password_file": "p", "paths": []}]})", "non-empty list"},
      {R"({"plans": [{"name": "a", "repository": "r", "password_file": "p", "paths": ["/x"], "retention": {"keep": 1}}]})",
       "unknown retention option 'keep'"},
      {R"({"plans": [{"name": "a", "repository": "r", "password_file": "p", "paths": ["/x"]},
                     {"name": "a", "repository": "r", "password_file": "p", "paths": ["/y"]}]})", "two plans"},
      {R"([1])", "not a plans file"},
  };
  for (const auto& [text, why] : bad) {
    WriteFile(dir.Sub("plans.json"), text);
    auto book = PlanBook::Load(Env::Default(), dir.Sub("plans.json"));
    ASSERT_FALSE(book.ok()) << text;
    EXPECT_NE(book.status().message().find(why), std::string::npos) << book.status().message();
  }
  for (const char* policy : {R"({"keep-daily": -1})", R"({"keep-daily": 1.5})", R"({"keep-within": "2x"})",
                             R"({"keep-within": "h"})", R"("keep-last")", "{"}) {
    EXPECT_FALSE(ParseRetention(policy).ok()) << policy;
  }
  EXPECT_TRUE(ParseRetention(R"({"keep-within-daily": "1y2m3d4h"})").ok());
}

TEST(JobRunnerTest, RunsWithATokenGoodOnlyInItsScopeWhileItRuns) {
  TempDir dir;
  // A stand-in for backspan: records its arguments and environment, waits
  // to be let go, then fails.
  const std::string program = dir.Sub("fake-backspan");
  WriteFile(program, "#!/bin/sh\n"
                     "echo \"$@\" > " + dir.Sub("args") + "\n"
                     "echo \"$OTEL_EXPORTER_OTLP_TRACES_HEADERS|$OTEL_RESOURCE_ATTRIBUTES|$TRACEPARENT\" > " +
                         dir.Sub("env.tmp") + " && mv " + dir.Sub("env.tmp") + " " + dir.Sub("env") + "\n"
                     "while [ ! -e " + dir.Sub("go") + " ]; do sleep 0.02; done\n"
                     "echo '{\"message_type\": \"summary\"}'\n"
                     "echo 'Fatal: something broke' >&2\n"
                     "exit 3\n");
  chmod(program.c_str(), 0700);
  JobRunner runner(program, "http://127.0.0.1:1", Env::Default());
  RunRequest req;
  req.plan.name = "prod-files";
  req.plan.repository = "/srv/repo";
  req.plan.password_file = "/etc/pw";
  req.plan.tags = {{"azure.resource_group.name", "rg-prod"}};
  req.command = "backup";
  req.args = {"--", "/srv/data"};
  req.triggered_by = "alice@example.com";
  auto run = runner.Start(req);
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->state, "running");
  ASSERT_TRUE(WaitFor([&] { return Env::Default()->Exists(dir.Sub("env")); }));
  EXPECT_EQ(ReadFile(dir.Sub("args")), "--json -r /srv/repo -p /etc/pw backup -- /srv/data\n");
  const std::string env = ReadFile(dir.Sub("env"));
  const std::string token = env.substr(env.find("Bearer%20") + 9, env.find('|') - env.find("Bearer%20") - 9);
  EXPECT_NE(env.find("enduser.id=alice%40example.com"), std::string::npos) << env;
  EXPECT_NE(env.find("backspan.run.id=" + run->id), std::string::npos) << env;
  EXPECT_EQ(env.substr(env.rfind('|')), "|\n");  // a trace of its own, not the server's

  auto scope = runner.IngestScope(token);
  ASSERT_TRUE(scope.has_value());
  EXPECT_FALSE(scope->unrestricted);
  EXPECT_EQ(scope->resource_groups, std::vector<std::string>{"rg-prod"});
  EXPECT_TRUE(scope->selectors.empty());
  EXPECT_FALSE(runner.IngestScope(token + "0").has_value());
  EXPECT_FALSE(runner.IngestScope("run.0000").has_value());
  EXPECT_EQ(runner.Start(req).status().code(), ErrorCode::kAlreadyExists);  // one job per plan at a time
  runner.NoteTrace(token, "0123456789abcdef0123456789abcdef");

  WriteFile(dir.Sub("go"), "");
  ASSERT_TRUE(WaitFor([&] { return runner.Get(run->id)->state != "running"; }));
  auto done = *runner.Get(run->id);
  EXPECT_EQ(done.state, "failed");
  EXPECT_EQ(done.exit_code, 3);
  EXPECT_EQ(done.stderr_tail, std::vector<std::string>{"Fatal: something broke"});
  EXPECT_EQ(done.summary, "{\"message_type\": \"summary\"}");
  EXPECT_EQ(done.trace_id, "0123456789abcdef0123456789abcdef");
  EXPECT_FALSE(runner.IngestScope(token).has_value());  // the run is over: so is its token
  EXPECT_EQ(runner.List().size(), 1u);
}

}  // namespace
}  // namespace backspan::observatory
