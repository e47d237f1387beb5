// The span chunks, the jobs table and its tag index as the PostgreSQL store writes them:
// shared by the writer (pg_jobs.cc) and the import of a SQLite store
// (store_import.cc).
#pragma once

#include <map>
#include <set>
#include <vector>

#include "observatory/store/span_store.h"
#include "storage/postgres.h"

namespace backspan::observatory {

// Inserts span chunks in one statement, in order (the trace view reads
// them by id).
Status InsertChunks(pg::Connection& db, const std::vector<const TraceChunk*>& chunks);

// Inserts `jobs` in one statement (ON CONFLICT DO NOTHING), each with
// updated_ns `updated_ns` (0: its own); sets the id of each one inserted and
// leaves 0 in those stored before.
Status InsertJobs(pg::Connection& db, const std::vector<JobRow*>& jobs, int64_t updated_ns);
// Writes the fields of stored job `job` (its id set) with updated_ns.
Status UpdateJob(pg::Connection& db, const JobRow& job, int64_t updated_ns);
// The tag index: the rows of `retagged` (stored jobs whose tags may have
// changed) out, every tag of `written` in. `cache` holds tags.id by tag
// (the caller clears it when a transaction rolls back).
Status IndexTags(pg::Connection& db, std::map<Tag, int64_t>* cache, const std::vector<const JobRow*>& written,
                 const std::vector<const JobRow*>& retagged);

}  // namespace backspan::observatory
