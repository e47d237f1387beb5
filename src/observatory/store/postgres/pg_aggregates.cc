// What finished jobs add to the aggregates (rollups, counters, sources),
// written by one replica at a time (kLockAggregates), and the queue of
// additions deferred under load (counted_jobs.h), which any replica drains.
#include <map>

#include "observatory/store/postgres/counted_jobs.h"
#include "observatory/store/postgres/postgres_span_store_impl.h"
#include "observatory/store/source_state.h"

namespace backspan::observatory {
Status AddToRollups(pg::Connection& wdb, const char* table, const char* period, const Rollups& rollups) {
  if (rollups.empty()) return Status::Ok();
  // The caller holds kAggregatesLock, so nothing else writes rollups until
  // it commits: the rows are read, added to here, and written back whole.
  // (Adding in SQL, histograms element by element, cost PostgreSQL ~60 µs
  // a row; written back, a row costs what its index lookup does.)
  const std::string t = table, p = period;
  std::vector<std::string> keys, kinds, groups, values;
  std::vector<int64_t> starts;
  for (const auto& [k, d] : rollups) {
    keys.push_back(k.tag_key);
    starts.push_back(k.start);
    kinds.push_back(k.kind);
    groups.push_back(k.resource_group);
    values.push_back(k.tag_value);
  }
  const std::vector<pg::Param> key_params = {pg::ArrayOf(keys), pg::ArrayOf(starts), pg::ArrayOf(kinds),
                                             pg::ArrayOf(groups), pg::ArrayOf(values)};
  auto stored = wdb.Query(
      "SELECT u.i, r.jobs, r.ok, r.partial, r.failed, r.duration_sum, r.bytes_added, r.bytes_total, r.hist "
      "FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(k, s, kd, rg, v, i) "
      "JOIN " + t + " r ON r.tag_key = u.k AND r." + p + " = u.s AND r.kind = u.kd AND r.resource_group = u.rg "
      "AND r.tag_value = u.v",
      key_params);
  if (!stored.ok()) return stored.status();
  std::vector<RollupDelta> sums;
  sums.reserve(rollups.size());
  for (const auto& [k, d] : rollups) sums.push_back(d);
  for (int r = 0; r < stored->size(); ++r) {
    RollupDelta& d = sums.at(static_cast<size_t>(stored->Int(r, 0) - 1));
    d.jobs += stored->Int(r, 1);
    d.ok += stored->Int(r, 2);
    d.partial += stored->Int(r, 3);
    d.failed += stored->Int(r, 4);
    d.duration_sum += stored->Double(r, 5);
    d.bytes_added += stored->Int(r, 6);
    d.bytes_total += stored->Int(r, 7);
    d.durations.MergeDense(stored->Ints(r, 8));
  }
  std::vector<std::string> hist;
  std::vector<int64_t> jobs, ok, partial, failed, bytes_added, bytes_total;
  std::vector<double> durations;
  for (const RollupDelta& d : sums) {
    jobs.push_back(d.jobs);
    ok.push_back(d.ok);
    partial.push_back(d.partial);
    failed.push_back(d.failed);
    durations.push_back(d.duration_sum);
    bytes_added.push_back(d.bytes_added);
    bytes_total.push_back(d.bytes_total);
    hist.push_back(pg::ArrayOf(d.durations.Dense()));
  }
  std::vector<pg::Param> params = key_params;
  for (auto* column : {&jobs, &ok, &partial, &failed}) params.push_back(pg::ArrayOf(*column));
  params.push_back(pg::ArrayOf(durations));
  params.push_back(pg::ArrayOf(bytes_added));
  params.push_back(pg::ArrayOf(bytes_total));
  params.push_back(pg::ArrayOf(hist));
  auto up = wdb.Query(
      "INSERT INTO " + t + " AS r (tag_key, " + p + ", kind, resource_group, tag_value, jobs, ok, partial, failed, "
      "duration_sum, bytes_added, bytes_total, hist) SELECT k, s, kd, rg, v, j, o, pa, f, d, ba, bt, h::bigint[] "
      "FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], "
      "$8::bigint[], $9::bigint[], $10::float8[], $11::bigint[], $12::bigint[], $13::text[]) "
      "AS u(k, s, kd, rg, v, j, o, pa, f, d, ba, bt, h) "
      "ON CONFLICT (tag_key, " + p + ", kind, resource_group, tag_value) DO UPDATE SET jobs = excluded.jobs, "
      "ok = excluded.ok, partial = excluded.partial, failed = excluded.failed, duration_sum = excluded.duration_sum, "
      "bytes_added = excluded.bytes_added, bytes_total = excluded.bytes_total, hist = excluded.hist",
      params);
  return up.status();
}

Status AddToJobCounts(pg::Connection& wdb, const AggregateDeltas& deltas) {
  std::vector<std::string> kinds, statuses;
  std::vector<int64_t> counts;
  for (const auto& [key, n] : deltas.counts) {
    kinds.push_back(key.first);
    statuses.push_back(key.second);
    counts.push_back(n);
  }
  auto up = wdb.Query("INSERT INTO job_counts (kind, status, count) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) "
                      "ON CONFLICT (kind, status) DO UPDATE SET count = job_counts.count + excluded.count",
                      {pg::ArrayOf(kinds), pg::ArrayOf(statuses), pg::ArrayOf(counts)});
  return up.status();
}

namespace {

Status FlushSources(pg::Connection& wdb, const std::vector<const JobRecord*>& jobs) {
  if (jobs.empty()) return Status::Ok();
  std::map<std::string, std::vector<const JobRecord*>> by_source;  // in key order: every replica locks in it
  for (const JobRecord* j : jobs) by_source[j->source_key].push_back(j);
  std::vector<std::string> keys;
  for (const auto& [key, js] : by_source) keys.push_back(key);
  // Rows made if missing ('' state: new) and locked; their states come back.
  auto rows = wdb.Query("INSERT INTO sources (key, state, last_job_ns) SELECT k, '', 0 FROM unnest($1::text[]) AS k "
                        "ON CONFLICT (key) DO UPDATE SET last_job_ns = sources.last_job_ns RETURNING id, key, state",
                        {pg::ArrayOf(keys)});
  if (!rows.ok()) return rows.status();
  std::vector<int64_t> ids, last;
  std::vector<std::string> states;
  for (int r = 0; r < rows->size(); ++r) {
    auto it = by_source.find(std::string(rows->Text(r, 1)));
    if (it == by_source.end()) continue;
    const std::string_view stored = rows->Text(r, 2);
    SourceState s = stored.empty() ? NewSource(*it->second.front()) : SourceFromJson(std::string(stored));
    for (const JobRecord* j : it->second) AddJobToSource(s, *j);
    ids.push_back(rows->Int(r, 0));
    states.push_back(SourceToJson(s));
    last.push_back(s.last_job_ns);
  }
  auto up = wdb.Query("UPDATE sources s SET state = u.st, last_job_ns = u.l FROM unnest($1::bigint[], $2::text[], "
                      "$3::bigint[]) AS u(id, st, l) WHERE s.id = u.id",
                      {pg::ArrayOf(ids), pg::ArrayOf(states), pg::ArrayOf(last)});
  return up.status();
}

}  // namespace

Status AddCounted(pg::Connection& wdb, const std::vector<CountedJob>& counted) {
  if (counted.empty()) return Status::Ok();
  AggregateDeltas deltas;
  std::vector<const JobRecord*> to_sources;
  for (const CountedJob& c : counted) {
    deltas.Add(c.job, c.sign);
    if (c.to_source && c.sign > 0 && !c.job.source_key.empty()) to_sources.push_back(&c.job);
  }
  RETURN_IF_ERROR(AddToRollups(wdb, "rollups", "hour", deltas.hourly));
  RETURN_IF_ERROR(AddToRollups(wdb, "rollups_daily", "day", deltas.daily));
  RETURN_IF_ERROR(AddToJobCounts(wdb, deltas));
  return FlushSources(wdb, to_sources);
}

Status PostgresSpanStore::Impl::DeferCounted(const std::vector<CountedJob>& counted) {
  if (counted.empty()) return Status::Ok();
  auto ins = wdb.Query("INSERT INTO aggregate_deltas (body) VALUES ($1)", {EncodeCountedJobs(counted)});
  if (ins.ok()) deferred = true;
  return ins.status();
}

Status AddDeferred(pg::Connection& wdb, bool wait) {
  // One replica adds at a time (AddToRollups writes rows back whole): a
  // read that wants what is queued waits for the one adding; a writer
  // leaves the queue to it (it takes any replica's rows) and writes on.
  Status s = wdb.Exec("BEGIN");
  if (s.ok() && wait) {
    s = wdb.Query(kLockAggregates).status();
  } else if (s.ok()) {
    auto took = wdb.QueryInt(kTryLockAggregates);
    if (took.ok() && *took == 0) return wdb.Exec("ROLLBACK");
    s = took.status();
  }
  auto rows = s.ok() ? wdb.Query("DELETE FROM aggregate_deltas WHERE id IN (SELECT id FROM aggregate_deltas ORDER BY id "
                                 "LIMIT 200) RETURNING body")
                     : Result<pg::Rows>(s);
  std::vector<CountedJob> all;
  if (rows.ok()) {
    for (int r = 0; r < rows->size() && s.ok(); ++r) {
      auto counted = DecodeCountedJobs(rows->Text(r, 0));
      if (!counted.ok()) s = counted.status();
      else all.insert(all.end(), std::make_move_iterator(counted->begin()), std::make_move_iterator(counted->end()));
    }
  } else {
    s = rows.status();
  }
  if (s.ok()) s = AddCounted(wdb, all);
  if (s.ok()) s = wdb.Exec("COMMIT");
  if (!s.ok()) (void)wdb.Exec("ROLLBACK");
  return s;
}

Status AddPendingBeforeRead(pg::Connection& db) {
  auto pending = db.QueryInt("SELECT count(*) FROM (SELECT 1 FROM aggregate_deltas LIMIT 1) p");
  if (!pending.ok() || *pending == 0) return pending.status();
  return AddDeferred(db, /*wait=*/true);
}

Status PostgresSpanStore::Impl::FlushDeferred() {
  last_deferred_flush_ns = env->MonotonicNanos();
  RETURN_IF_ERROR(EnsureWriter());
  RETURN_IF_ERROR(AddDeferred(wdb, /*wait=*/false));
  deferred = false;  // or another replica is adding (the queue, this writer's rows included)
  return Status::Ok();
}

}  // namespace backspan::observatory
