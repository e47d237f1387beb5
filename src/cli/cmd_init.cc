#include <cstdio>

#include "backend/location.h"
#include "cli/context.h"
#include "cli/json_output.h"
#include "cli/telemetry.h"
#include "trace/semconv.h"

namespace backspan::cli {

int RunInit(const GlobalOptions& g) {
  auto backend = OpenLocation(g, JobSpan(g));
  if (!backend.ok()) {
    if (backend.status().code() == ErrorCode::kInvalidArgument) return UsageError(g, backend.status().message());
    return Fail(g, backend.status());
  }
  if (g.job) g.job->root().SetAttribute(semconv::kRepository, (*backend)->Location());
  auto password = ReadPassword(g, true, JobSpan(g));
  if (!password.ok()) return Fail(g, password.status());
  auto repo = trace::InChildSpan(JobSpan(g), "create repository", [&](trace::Span&) {
    return Repository::Init(std::move(*backend), Env::Default(), *password, ChunkerParams{}, Hostname(), Username());
  });
  if (!repo.ok()) return Fail(g, repo.status());
  if (g.job) RecordStorageCounts(*(*repo)->backend(), g.job->root());
  std::string location = (*repo)->backend()->Location();
  if (g.json) {
    std::printf("%s\n", InitJson((*repo)->config().id, location).c_str());
  } else if (!g.quiet) {
    std::printf("created backspan repository %s at %s\n\n", (*repo)->config().id.substr(0, 10).c_str(),
                location.c_str());
    std::printf("Keep the password safe: without it the data in this repository cannot be read.\n");
  }
  return kExitOk;
}

}  // namespace backspan::cli
