// Opening the PostgreSQL store, the connection pool, and the writer: group
// commit of the batches waiting, with partitions made for their days, their
// traces locked against writers in other replicas, the write rule, and
// retention once across replicas.
#include <algorithm>
#include <map>
#include <random>

#include "observatory/store/agent_record.h"
#include "observatory/store/job_list_sql.h"
#include "observatory/store/postgres/pg_job_rows.h"
#include "observatory/store/postgres/postgres_span_store_impl.h"
#include "observatory/store/postgres/schema.h"
#include "observatory/store/write_rule.h"
#include "util/hex.h"

namespace backspan::observatory {
namespace {

constexpr size_t kMaxBatchesPerCommit = 64;
constexpr int kMaxAttempts = 4;
// Advisory lock keys of our own (the schema's is in schema.cc): retention's,
// and the leader's.
constexpr const char* kRetentionKey = "7074249406009156974";
constexpr const char* kLeaderKey = "7074249405942506852";
constexpr auto kElectionInterval = std::chrono::seconds(2);
// The channel replicas tell each other of the jobs they stored on.
constexpr const char* kJobsChannel = "backspan_jobs";
constexpr size_t kMaxNotifyPayload = 7000;  // PostgreSQL's limit is 8000 bytes

int64_t TraceLockKey(const trace::TraceId& id) {
  int64_t k = 0;
  for (int i = 0; i < 8; ++i) k = (k << 8) | id[static_cast<size_t>(i)];
  return k;
}

}  // namespace

std::string Hex(std::string_view bytes) {
  return HexEncode(ByteView(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

std::vector<pg::Param> ParamsOf(const Where& where) {
  std::vector<pg::Param> out;
  for (const SqlValue& v : where.params()) {
    if (auto* n = std::get_if<int64_t>(&v)) out.emplace_back(std::to_string(*n));
    else out.emplace_back(std::get<std::string>(v));
  }
  return out;
}

PostgresSpanStore::Impl::Conn::Conn(Impl* impl) : impl_(impl) {
  {
    std::lock_guard<std::mutex> l(impl->pool_mu);
    if (!impl->pool.empty()) {
      c_ = std::move(impl->pool.back());
      impl->pool.pop_back();
      if (c_.ok()) return;
    }
  }
  auto c = pg::Connection::Open(impl->options.uri);
  if (!c.ok()) {
    status_ = c.status();
    return;
  }
  c_ = std::move(*c);
  status_ = c_.PlanOnce();  // reads plan once per statement, not per query
}

PostgresSpanStore::Impl::Conn::~Conn() {
  if (!status_.ok() || !c_.ok()) return;  // a broken connection is not reused
  std::lock_guard<std::mutex> l(impl_->pool_mu);
  if (impl_->pool.size() < 8) impl_->pool.push_back(std::move(c_));
}

Result<std::unique_ptr<SpanStore>> PostgresSpanStore::Open(const StoreOptions& options, Env* env) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->env = env;
  auto db = pg::Connection::Open(options.uri);
  if (!db.ok()) return db.status();
  if (Status s = postgres::Migrate(*db); !s.ok()) return s.WithContext("cannot create or upgrade the store's schema");
  impl->wdb = std::move(*db);
  std::random_device random;  // tells this replica's notifications apart, nothing secret
  impl->replica_id = std::to_string((uint64_t{random()} << 32) ^ random());
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->WriterLoop(); });
  impl->elector = std::thread([raw] { raw->ElectorLoop(); });
  return std::unique_ptr<SpanStore>(new PostgresSpanStore(std::move(impl)));
}

PostgresSpanStore::PostgresSpanStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PostgresSpanStore::~PostgresSpanStore() {
  impl_->queue.Stop();
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv_stop.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
  if (impl_->elector.joinable()) impl_->elector.join();
  if (impl_->listener.joinable()) impl_->listener.join();
}

void PostgresSpanStore::OnJobsWrittenElsewhere(std::function<void(std::vector<JobRecord>)> fn) {
  if (impl_->listener.joinable()) return;  // set once
  impl_->on_foreign_jobs = std::move(fn);
  Impl* raw = impl_.get();
  impl_->listener = std::thread([raw] { raw->ListenerLoop(); });
}

Status PostgresSpanStore::Impl::NotifyJobs(const std::vector<JobRecord>& written) {
  // Sent at commit, in commit order, to every listening replica; a payload
  // holds as many jobs as fit.
  // (EncodeCountedJobs' form: "B", then the jobs' records, by commas.)
  const std::string head = replica_id + ":" + kCountedJobsFormat;
  std::string payload;
  auto flush = [&]() -> Status {
    if (payload.empty()) return Status::Ok();
    auto sent = wdb.Query("SELECT pg_notify($1, $2)", {std::string(kJobsChannel), head + payload});
    payload.clear();
    return sent.status();
  };
  for (const JobRecord& j : written) {
    CountedJob c{j, 1, false};
    if (c.job.error_message.size() > 1000) c.job.error_message.resize(1000);  // insight reads its type, not its text
    const std::string one = EncodeCountedJob(c);
    if (head.size() + one.size() > kMaxNotifyPayload) continue;  // tags beyond any real job's
    if (head.size() + payload.size() + one.size() + 1 > kMaxNotifyPayload) RETURN_IF_ERROR(flush());
    if (!payload.empty()) payload.push_back(',');
    payload += one;
  }
  return flush();
}

Status PostgresSpanStore::Impl::CatchUpJobs(pg::Connection& db, int64_t since_ns) {
  // Jobs written while this replica was not listening: every job updated
  // since (a minute's margin for the replicas' clocks), of the last week's
  // starts (what insight judges). Insight takes a job it has again as is.
  auto rows = db.Query("SELECT " + JobColumns() + " FROM jobs WHERE start_ns >= $1 AND updated_ns >= $2",
                       {std::to_string(since_ns - 7 * kDayNs), std::to_string(since_ns - 60'000'000'000)});
  if (!rows.ok()) return rows.status();
  std::vector<JobRecord> jobs;
  for (int r = 0; r < rows->size(); ++r) jobs.push_back(ReadJob(*rows, r));
  if (!jobs.empty()) on_foreign_jobs(std::move(jobs));
  return Status::Ok();
}

void PostgresSpanStore::Impl::ListenerLoop() {
  pg::Connection db;
  int64_t deaf_since_ns = 0;  // when the last listening connection failed (0: it never did)
  while (true) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (stopping) return;
    }
    if (!db.ok()) {
      auto c = pg::Connection::Open(options.uri);
      if (!c.ok() || !c->Listen(kJobsChannel).ok() || (deaf_since_ns && !CatchUpJobs(*c, deaf_since_ns).ok())) {
        std::unique_lock<std::mutex> l(mu);
        cv_stop.wait_for(l, kElectionInterval, [&] { return stopping; });
        continue;
      }
      db = std::move(*c);
    }
    auto got = db.Notifications(500);
    if (!got.ok()) {
      db = pg::Connection();
      deaf_since_ns = env->NowUnixNanos();
      continue;
    }
    for (const std::string& n : *got) {
      const size_t colon = n.find(':');
      if (colon == std::string::npos || n.compare(0, colon, replica_id) == 0) continue;  // its own
      auto jobs = DecodeCountedJobs(std::string_view(n).substr(colon + 1));
      if (!jobs.ok()) continue;
      std::vector<JobRecord> out;
      for (CountedJob& c : *jobs) out.push_back(std::move(c.job));
      on_foreign_jobs(std::move(out));
    }
  }
}

bool PostgresSpanStore::Leads() { return impl_->leading; }

void PostgresSpanStore::Impl::ElectorLoop() {
  pg::Connection db;
  std::unique_lock<std::mutex> l(mu);
  while (!stopping) {
    l.unlock();
    // The leader checks that its session (and with it the lock) still
    // lives; the others try to take the lock.
    bool lead = false;
    if (!db.ok()) {
      leading = false;
      if (auto c = pg::Connection::Open(options.uri); c.ok()) db = std::move(*c);
    }
    if (db.ok()) {
      auto held = leading ? db.QueryInt("SELECT 1")
                          : db.QueryInt(std::string("SELECT pg_try_advisory_lock(") + kLeaderKey + ")::int");
      lead = held.ok() && *held == 1;
    }
    leading = lead;
    l.lock();
    cv_stop.wait_for(l, kElectionInterval, [&] { return stopping; });
  }
}

Result<WriteOutcome> PostgresSpanStore::Write(IngestBatch batch, const Scope& writer) {
  return impl_->queue.Submit(std::move(batch), writer);
}

void PostgresSpanStore::Impl::WriterLoop() {
  last_retention_ns = env->MonotonicNanos();
  (void)Retain();  // data past the limits goes at startup
  (void)FlushDeferred();  // what a writer that stopped left
  std::vector<Pending*> work;
  while (queue.Take(kMaxBatchesPerCommit, std::chrono::seconds(5), &work)) {
    if (!work.empty()) Commit(work);
    // Deferred additions go in once a second under load; when no more work
    // comes within a few milliseconds, before the writes are answered, so
    // a quiet server's trends and freshness are current as soon as it
    // answers; and every few seconds, those a replica that died left.
    const int64_t since_flush = env->MonotonicNanos() - last_deferred_flush_ns;
    const bool quiet = deferred && since_flush < 1'000'000'000 && !queue.WaitForMore(std::chrono::milliseconds(5));
    if ((deferred && (quiet || since_flush >= 1'000'000'000)) || (work.empty() && since_flush >= 5'000'000'000))
      (void)FlushDeferred();
    queue.Finish(work);
    if (env->MonotonicNanos() - last_retention_ns >= options.retention_check_interval_ns) {
      last_retention_ns = env->MonotonicNanos();
      (void)Retain();
    }
  }
}

Status PostgresSpanStore::Impl::EnsureWriter() {
  if (wdb.ok()) return Status::Ok();
  auto db = pg::Connection::Open(options.uri);
  if (!db.ok()) return db.status();
  wdb = std::move(*db);
  return Status::Ok();
}

void PostgresSpanStore::Impl::Commit(const std::vector<Pending*>& work) {
  Status st;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    st = EnsureWriter();
    if (st.ok()) st = TryCommit(work);
    if (st.ok()) break;
    (void)wdb.Exec("ROLLBACK");
    tag_ids.clear();  // ids a rolled-back transaction inserted are gone
    // Worth another try: a deadlock or conflict with another replica, a
    // partition retention dropped under us, or a connection that broke
    // since the last commit (the server restarted) and is made again.
    const bool partition = st.message().find("no partition of relation") != std::string::npos;
    if (partition) known_days.clear();
    const bool stale_connection = st.code() == ErrorCode::kIOError && attempt == 0;
    if (!(st.code() == ErrorCode::kLocked || partition || stale_connection)) break;
  }
  // Still in conflict after every attempt: the database is busy; the
  // caller may try again (503), as when it is down.
  if (st.code() == ErrorCode::kLocked) st = Status::IOError("the store is busy: " + st.message());
  if (!st.ok() && work.size() > 1 && st.code() != ErrorCode::kIOError) {
    // Data the server refuses in one batch fails that batch, not the others.
    for (Pending* p : work) Commit({p});
    return;
  }
  for (Pending* p : work) p->result = st;
}

Status PostgresSpanStore::Impl::TryCommit(const std::vector<Pending*>& work) {
  RETURN_IF_ERROR(EnsurePartitions(work));
  RETURN_IF_ERROR(wdb.Exec("BEGIN"));
  RETURN_IF_ERROR(LockTraces(work));
  std::vector<const JobRecord*> jobs;
  for (Pending* p : work) {
    RETURN_IF_ERROR(RejectForeignReplacements(p->batch, p->writer, &p->outcome));
    RETURN_IF_ERROR(ApplySpans(p->batch));
    for (const JobRecord& j : p->batch.jobs) jobs.push_back(&j);
  }
  std::vector<CountedJob> counted;
  std::vector<JobRecord> written;
  RETURN_IF_ERROR(ApplyJobs(jobs, &counted, &written));
  RETURN_IF_ERROR(NotifyJobs(written));
  RETURN_IF_ERROR(ApplyAgents(work));
  // What they add to the aggregates waits (WriterLoop) to be added with
  // more: each rollup row is then written once for many jobs.
  RETURN_IF_ERROR(DeferCounted(counted));
  return wdb.Exec("COMMIT");
}

Status PostgresSpanStore::Impl::EnsurePartitions(const std::vector<Pending*>& work) {
  std::set<int64_t> days;
  auto need = [&](int64_t ns) {
    const int64_t d = postgres::DayOf(ns);
    if (!known_days.count(d)) days.insert(std::max<int64_t>(d, 0));
  };
  for (Pending* p : work) {
    for (const TraceChunk& c : p->batch.chunks) need(c.start_ns);
    for (const JobRecord& j : p->batch.jobs) need(j.start_ns);
  }
  if (days.empty()) return Status::Ok();
  RETURN_IF_ERROR(postgres::EnsureDays(wdb, days));
  known_days.insert(days.begin(), days.end());
  return Status::Ok();
}

Status PostgresSpanStore::Impl::LockTraces(const std::vector<Pending*>& work) {
  // A transaction-scoped lock per trace written, taken in one order by every
  // replica: the write rule's reads of a trace's stored spans stay true
  // until this transaction commits.
  std::set<int64_t> keys;
  for (Pending* p : work) {
    for (const TraceChunk& c : p->batch.chunks) keys.insert(TraceLockKey(c.trace_id));
    for (const LiveSpan& l : p->batch.live) keys.insert(TraceLockKey(l.trace_id));
    for (const JobRecord& j : p->batch.jobs) keys.insert(TraceLockKey(j.trace_id));
  }
  if (keys.empty()) return Status::Ok();
  auto locked = wdb.Query("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k",
                          {pg::ArrayOf(std::vector<int64_t>(keys.begin(), keys.end()))});
  return locked.status();
}

Status PostgresSpanStore::Impl::RejectForeignReplacements(IngestBatch& batch, const Scope& caller, WriteOutcome* outcome) {
  if (caller.AllowsEverything()) return Status::Ok();
  ForeignReplacements rule(batch, caller);
  std::vector<std::string> traces;
  for (const auto& [tid, ids] : rule.incoming()) traces.push_back(Hex(trace::IdBytes(tid)));
  const std::string in_traces = "(SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x)";
  auto chunks = wdb.Query("SELECT trace_id, raw_length, body FROM span_chunks WHERE trace_id IN " + in_traces, {pg::ArrayOf(traces)});
  if (!chunks.ok()) return chunks.status();
  for (int r = 0; r < chunks->size(); ++r)
    RETURN_IF_ERROR(rule.CheckChunk(trace::IdFromBytes<16>(chunks->Bytes(r, 0)), chunks->Bytes(r, 2),
                                    static_cast<uint64_t>(chunks->Int(r, 1))));
  auto live = wdb.Query("SELECT trace_id, body FROM live_spans WHERE trace_id IN " + in_traces, {pg::ArrayOf(traces)});
  if (!live.ok()) return live.status();
  for (int r = 0; r < live->size(); ++r)
    RETURN_IF_ERROR(rule.CheckLive(trace::IdFromBytes<16>(live->Bytes(r, 0)), live->Bytes(r, 1)));
  std::vector<std::string> spans;
  for (const trace::SpanId& sid : rule.LiveSpanIds(batch, true)) spans.push_back(Hex(trace::IdBytes(sid)));
  if (!spans.empty()) {
    auto by_span = wdb.Query("SELECT span_id, body FROM live_spans WHERE span_id IN (SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x)",
                             {pg::ArrayOf(spans)});
    if (!by_span.ok()) return by_span.status();
    for (int r = 0; r < by_span->size(); ++r)
      RETURN_IF_ERROR(rule.CheckLiveSpan(trace::IdFromBytes<8>(by_span->Bytes(r, 0)), by_span->Bytes(r, 1)));
  }
  for (const JobRecord& j : batch.jobs) {
    auto row = wdb.Query("SELECT kind, resource_group, tags FROM jobs WHERE start_ns = $1 AND span_id = decode($2, 'hex') "
                         "AND trace_id = decode($3, 'hex')",
                         {std::to_string(j.start_ns), Hex(trace::IdBytes(j.span_id)), Hex(trace::IdBytes(j.trace_id))});
    if (!row.ok()) return row.status();
    if (row->size() > 0) rule.CheckJob(j, row->Text(0, 0), row->Text(0, 1), std::string(row->Text(0, 2)));
  }
  rule.Apply(batch, outcome);
  return Status::Ok();
}

Status PostgresSpanStore::Impl::ApplySpans(const IngestBatch& batch) {
  std::vector<const TraceChunk*> chunks;
  for (const TraceChunk& c : batch.chunks) chunks.push_back(&c);
  RETURN_IF_ERROR(InsertChunks(wdb, chunks));
  // Finished spans retire their in-progress snapshots; the batch's own
  // snapshots (deduplicated: the last one wins) replace older ones, unless
  // the span's job has already finished (a late snapshot).
  if (!batch.finished.empty()) {
    std::vector<std::string> ids;
    for (const auto& id : batch.finished) ids.push_back(Hex(trace::IdBytes(id)));
    auto del = wdb.Query("DELETE FROM live_spans WHERE span_id IN (SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x)",
                         {pg::ArrayOf(ids)});
    if (!del.ok()) return del.status();
  }
  if (!batch.live.empty()) {
    std::map<trace::SpanId, const LiveSpan*> last;
    for (const LiveSpan& l : batch.live) last[l.span_id] = &l;
    std::vector<std::string> spans, traces, bodies;
    std::vector<int64_t> starts;
    for (const auto& [sid, l] : last) {
      spans.push_back(Hex(trace::IdBytes(sid)));
      traces.push_back(Hex(trace::IdBytes(l->trace_id)));
      bodies.push_back(Hex(l->body));
      starts.push_back(l->start_ns);
    }
    auto up = wdb.Query(
        "INSERT INTO live_spans (span_id, trace_id, updated_ns, body) "
        "SELECT decode(s, 'hex'), decode(t, 'hex'), $5::bigint, decode(b, 'hex') "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS u(s, t, b, st) "
        "WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.start_ns = u.st AND j.span_id = decode(u.s, 'hex') "
        "AND j.trace_id = decode(u.t, 'hex') AND j.status != 'running') "
        "ON CONFLICT (span_id) DO UPDATE SET trace_id = excluded.trace_id, updated_ns = excluded.updated_ns, body = excluded.body",
        {pg::ArrayOf(spans), pg::ArrayOf(traces), pg::ArrayOf(bodies), pg::ArrayOf(starts), std::to_string(env->NowUnixNanos())});
    if (!up.ok()) return up.status();
  }
  return Status::Ok();
}

Status PostgresSpanStore::Impl::ApplyAgents(const std::vector<Pending*>& work) {
  // The newest heartbeat of each agent; a late one never replaces a newer one.
  std::map<std::string, const AgentRecord*> newest;
  for (Pending* p : work)
    for (const AgentRecord& a : p->batch.agents) {
      auto& slot = newest[a.name];
      if (!slot || a.sent_ns >= slot->sent_ns) slot = &a;
    }
  if (newest.empty()) return Status::Ok();
  std::vector<std::string> names, bodies;
  std::vector<int64_t> sent;
  for (const auto& [name, a] : newest) {
    names.push_back(name);
    sent.push_back(a->sent_ns);
    bodies.push_back(AgentRecordToJson(*a, Scope::All()));
  }
  auto up = wdb.Query(
      "INSERT INTO agents (name, sent_ns, body) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]) "
      "ON CONFLICT (name) DO UPDATE SET sent_ns = excluded.sent_ns, body = excluded.body "
      "WHERE excluded.sent_ns >= agents.sent_ns",
      {pg::ArrayOf(names), pg::ArrayOf(sent), pg::ArrayOf(bodies)});
  return up.status();
}

Status PostgresSpanStore::Impl::Retain() {
  if (options.retention_ns <= 0 && options.max_bytes <= 0) return Status::Ok();
  RETURN_IF_ERROR(EnsureWriter());
  // One replica at a time; the others find the lock taken and skip. The
  // lock is the session's: a replica that dies lets go of it.
  auto leader = wdb.QueryInt(std::string("SELECT pg_try_advisory_lock(") + kRetentionKey + ")::int");
  if (!leader.ok() || *leader == 0) return leader.status();
  Status s = RetainAsLeader();
  (void)wdb.Query(std::string("SELECT pg_advisory_unlock(") + kRetentionKey + ")");
  return s;
}

Status PostgresSpanStore::Impl::RetainAsLeader() {
  int64_t cutoff = 0;
  if (options.retention_ns > 0) cutoff = env->NowUnixNanos() - options.retention_ns;
  // Size: the oldest days go until the data fits (today's always stays).
  if (options.max_bytes > 0) {
    auto days = postgres::StoredDays(wdb);
    if (!days.ok()) return days.status();
    for (size_t i = 0; i + 1 < days->size(); ++i) {
      auto bytes = wdb.QueryInt("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                                "WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace");
      if (!bytes.ok()) return bytes.status();
      if (*bytes <= options.max_bytes) break;
      cutoff = std::max(cutoff, postgres::DayStartNs((*days)[i] + 1));
      if (auto dropped = postgres::DropDaysBefore(wdb, cutoff); !dropped.ok()) return dropped.status();
    }
  }
  if (cutoff <= 0) return Status::Ok();
  auto dropped = postgres::DropDaysBefore(wdb, cutoff);
  if (!dropped.ok()) return dropped.status();
  known_days.clear();
  // What lies outside the partitions: hours and days wholly past the
  // cutoff, snapshots not updated since, sources not seen since.
  const std::string c = std::to_string(cutoff);
  Status s = wdb.Exec("BEGIN; DELETE FROM rollups WHERE hour < " + std::to_string(cutoff / kHourNs * kHourNs) +
                      "; DELETE FROM rollups_daily WHERE day < " + std::to_string(cutoff / kDayNs * kDayNs) +
                      "; DELETE FROM live_spans WHERE updated_ns < " + c +
                      (options.retention_ns > 0 ? "; DELETE FROM sources WHERE last_job_ns < " + c : std::string()) +
                      "; COMMIT");
  if (!s.ok()) (void)wdb.Exec("ROLLBACK");
  return s;
}

}  // namespace backspan::observatory
