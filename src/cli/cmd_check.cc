#include <cstdio>
#include <cstdlib>

#include "checker/checker.h"
#include "cli/context.h"
#include "cli/telemetry.h"
#include "cli/json_output.h"
#include "trace/semconv.h"

namespace backspan::cli {

int RunCheck(const GlobalOptions& g, const CheckCommand& c) {
  CheckOptions opts;
  opts.read_data = c.read_data;
  if (!c.read_data_subset.empty()) {
    std::string v = c.read_data_subset;
    if (v.back() == '%') v.pop_back();
    char* end = nullptr;
    double pct = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || pct <= 0 || pct > 100)
      return UsageError(g, "--read-data-subset must be a percentage in (0, 100], e.g. 10%");
    opts.read_data = true;
    opts.read_data_percent = pct;
  }
  // What is checked is the repository, never the local cache's copies.
  GlobalOptions uncached = g;
  uncached.no_cache = true;
  auto repo = OpenRepository(uncached, false, LockKind::kShared, "check");
  if (!repo.ok()) return Fail(g, repo.status());
  opts.trace = &JobSpan(g);
  Checker checker(repo->get(), opts);
  auto result = checker.Run();
  if (!result.ok()) return Fail(g, result.status());
  if (g.job) {
    trace::Span& job = g.job->root();
    job.SetAttribute(semconv::kCheckErrors, result->errors.size());
    job.SetAttribute(semconv::kCheckPacks, result->packs);
    job.SetAttribute(semconv::kCheckSnapshots, result->snapshots);
    if (!result->ok())
      g.job->RecordError(Status::Corruption(std::to_string(result->errors.size()) + " errors found"));
  }
  if (g.json) {
    std::printf("%s\n", CheckJson(*result).c_str());
  } else {
    if (!g.quiet) {
      std::printf("checked %llu packs, %llu snapshots, %llu trees", static_cast<unsigned long long>(result->packs),
                  static_cast<unsigned long long>(result->snapshots), static_cast<unsigned long long>(result->trees));
      if (opts.read_data)
        std::printf("; read %llu packs, %llu blobs", static_cast<unsigned long long>(result->packs_read),
                    static_cast<unsigned long long>(result->blobs_read));
      std::printf("\n");
      for (const auto& n : result->notices) std::printf("notice: %s\n", n.c_str());
    }
    for (const auto& e : result->errors) std::fprintf(stderr, "error: %s\n", e.c_str());
    if (result->ok() && !g.quiet) std::printf("no errors were found\n");
  }
  if (!result->ok()) {
    if (!g.json)
      std::fprintf(stderr, "Fatal: the repository has %zu errors; affected files are listed above\n",
                   result->errors.size());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace backspan::cli
