// `backspan store copy`: a SQLite store (serve --data) into PostgreSQL
// (serve --store), batch by batch, each committed with how far it got, so an
// interrupted copy resumes; verified by counts at the end.
#include <cstdio>
#include <climits>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/json_output.h"
#include "observatory/store/postgres/store_import.h"
#include "observatory/store/sqlite/store_export.h"
#include "storage/postgres.h"

namespace backspan::cli {
namespace {

std::string CountsText(const observatory::StoreCounts& c) {
  return std::to_string(c.jobs) + " jobs, " + std::to_string(c.chunks) + " span chunks (" + std::to_string(c.spans) +
         " spans), " + std::to_string(c.sources) + " sources, " + std::to_string(c.counted_jobs) + " jobs counted";
}

// Copies batches of `read`'s rows into `write` from where an earlier run got.
template <typename Read, typename Write>
Status CopyTable(const GlobalOptions& g, observatory::PostgresStoreImport& to, const char* item, int batch,
                 int64_t total, Read read, Write write) {
  auto position = to.Position(item);
  if (!position.ok()) return position.status();
  int64_t after = *position, copied = 0;
  while (true) {
    auto rows = read(after, batch);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) break;
    const int64_t last = rows->back().id, n = static_cast<int64_t>(rows->size());
    if (Status s = write(std::move(*rows)); !s.ok()) return s.WithContext(std::string("copying ") + item);
    after = last;
    copied += n;
    if (!g.quiet && !g.json) std::fprintf(stderr, "\r%s: %lld copied (of %lld)", item, static_cast<long long>(copied),
                                          static_cast<long long>(total));
  }
  if (!g.quiet && !g.json && copied) std::fprintf(stderr, "\n");
  return Status::Ok();
}

}  // namespace

int RunStoreCopy(const GlobalOptions& g, const StoreCopyCommand& c) {
  if (c.to.rfind("postgresql://", 0) != 0 && c.to.rfind("postgres://", 0) != 0)
    return UsageError(g, "--to must be a PostgreSQL URI such as postgresql://backspan@db.example:5432/backspan");
  auto from = observatory::SqliteStoreExport::Open(c.from);
  if (!from.ok()) return Fail(g, from.status());
  char resolved[PATH_MAX];
  const std::string source = realpath(c.from.c_str(), resolved) ? resolved : c.from;
  auto to = observatory::PostgresStoreImport::Open(c.to, source);
  if (!to.ok()) return Fail(g, to.status());
  auto other = (*to)->HoldsOtherData();
  if (!other.ok()) return Fail(g, other.status());
  if (*other)
    return Fail(g, Status::AlreadyExists(pg::RedactUri(c.to) + " already holds jobs that no copy of " + source +
                                         " brought: copy into an empty database"));
  auto want = (*from)->Counts();
  if (!want.ok()) return Fail(g, want.status());

  observatory::SqliteStoreExport& src = **from;
  observatory::PostgresStoreImport& dst = **to;
  Status s = CopyTable(
      g, dst, "chunks", c.batch, want->chunks, [&](int64_t after, int n) { return src.Chunks(after, n); },
      [&](std::vector<observatory::StoredChunk> rows) { return dst.ImportChunks(rows); });
  if (s.ok())
    s = CopyTable(
        g, dst, "jobs", c.batch, want->jobs, [&](int64_t after, int n) { return src.Jobs(after, n); },
        [&](std::vector<observatory::JobRow> rows) { return dst.ImportJobs(std::move(rows)); });
  if (s.ok()) {
    // Rollups, sources and counters as they are: they count jobs retention
    // already deleted, which recomputing from the jobs would lose.
    auto derived = src.Derived();
    s = derived.ok() ? dst.ImportDerived(*derived) : derived.status();
  }
  if (!s.ok()) return Fail(g, s.WithContext("the copy stopped; run the same command again to resume"));

  auto got = dst.Counts();
  if (!got.ok()) return Fail(g, got.status());
  const bool same = *got == *want;
  if (g.json) {
    std::printf("%s\n", StoreCopyJson(source, pg::RedactUri(c.to), got->jobs, got->chunks, got->spans, got->sources,
                                     same).c_str());
  } else if (!g.quiet) {
    std::printf("copied %s\n", CountsText(*got).c_str());
  }
  if (!same)
    return Fail(g, Status::Corruption("the copy does not match: the source has " + CountsText(*want) +
                                      "; the destination " + CountsText(*got) +
                                      " (a server still writing to either?)"));
  return kExitOk;
}

}  // namespace backspan::cli
