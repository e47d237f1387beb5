// The command line: flags to option structs, and the matching Run function.
#include <CLI/CLI.hpp>

#include <signal.h>
#include <unistd.h>

#include <csignal>

#include "cli/commands.h"
#include "cli/telemetry.h"
#include "crypto/crypto.h"
#include "util/interrupt.h"
#include "version.h"

namespace backspan::cli {
namespace {

extern "C" void OnStopSignal(int sig) {
  // The first asks the job to stop cleanly (its loops poll for it); a
  // second means now.
  if (InterruptRequested()) _exit(128 + sig);
  RequestInterrupt();
}

// SIGINT and SIGTERM interrupt the job (serve and wrap handle them their
// own way). System calls restart, so an interrupted job still completes
// the write it is in the middle of.
void StopOnSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// Every command's options, and where its exit code goes: alive until the
// parse that fills them has run the chosen command's callback.
struct Commands {
  GlobalOptions g;
  int rc = kExitOk;
  BackupCommand backup;
  SnapshotsCommand snaps;
  LsCommand ls;
  DiffCommand diff;
  RestoreCommand restore;
  CheckCommand check;
  KeyCommand key;
  ForgetCommand forget;
  PruneCommand prune;
  UnlockCommand unlock;
  JobsCommand jobs;
  TraceCommand trace_cmd;
  ServeCommand serve;
  AgentCommand agent;
  AuditCommand audit_cmd;
  StoreCopyCommand store_copy;
  WrapCommand wrap_cmd;
};

// Runs a job inside its trace: the root span spans the whole command.
template <typename Run>
int Traced(GlobalOptions& g, const char* kind, const std::vector<std::string>& tags, Run run) {
  JobTelemetry job(g, kind, tags);
  g.job = &job;
  int code = run();
  job.Finish(code);
  g.job = nullptr;
  return code;
}

// Repository, credentials, storage and output options of every command.
void AddGlobalOptions(CLI::App& app, GlobalOptions& g) {
  app.add_option("-r,--repo", g.repo, "repository location (or BACKSPAN_REPOSITORY)");
  app.add_option("-p,--password-file", g.password_file,
                 "file holding the repository password (or BACKSPAN_PASSWORD_FILE)");
  app.add_option("--password-command", g.password_command,
                 "shell command that prints the repository password (or BACKSPAN_PASSWORD_COMMAND)");
  app.add_flag("--json", g.json, "machine-readable output");
  app.add_option("--cacert", g.cacert, "trust the CAs in this PEM file for azure:// and s3:// (else the system's, or SSL_CERT_FILE)");
  app.add_flag("--insecure-http", g.insecure_http, "allow plain http to a storage endpoint that is not on this host");
  app.add_option("-o,--option", g.options, "storage option KEY=VALUE: connections, timeout, retries, part-size (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--cache-dir", g.cache_dir, "cache of a cloud repository's metadata (default $XDG_CACHE_HOME/backspan)");
  app.add_flag("--no-cache", g.no_cache, "read a cloud repository's metadata from the repository, not the local cache");
  app.add_flag("-q,--quiet", g.quiet, "print only errors and the final result");
}

void AddTracingOptions(CLI::App& app, TraceOptions& t) {
  const char* tracing = "Tracing (docs/tracing.md)";
  app.add_option("--otlp-endpoint", t.otlp_endpoint, "export traces to this OTLP/HTTP base URL "
                 "(or OTEL_EXPORTER_OTLP_ENDPOINT)")->group(tracing);
  app.add_option("--otlp-protocol", t.otlp_protocol, "http/protobuf (default) or http/json")
      ->check(CLI::IsMember({"http/protobuf", "http/json"}))->group(tracing);
  app.add_option("--otlp-header", t.otlp_headers, "send this KEY=VALUE header with exports (repeatable)")
      ->allow_extra_args(false)->group(tracing);
  app.add_option("--otlp-compression", t.otlp_compression, "gzip or none")
      ->check(CLI::IsMember({"gzip", "none"}))->group(tracing);
  app.add_option("--otlp-timeout", t.otlp_timeout, "give up exporting after this long (default 10s)")
      ->group(tracing);
  app.add_option("--otlp-progress-interval", t.otlp_progress_interval,
                 "send snapshots of a running job this often to backspan serve (default 15s, 0: never; "
                 "or BACKSPAN_OTLP_PROGRESS_INTERVAL)")->group(tracing);
  app.add_option("--trace-paths", t.paths, "file paths in traces: keep (default), hash or drop")
      ->check(CLI::IsMember({"keep", "hash", "drop"}))->group(tracing);
  app.add_option("--trace-redact", t.redact, "KEY_GLOB=keep|hash|drop for attributes (repeatable)")
      ->allow_extra_args(false)->group(tracing);
  app.add_option("--state-dir", t.state_dir, "where the job history lives (or BACKSPAN_STATE_DIR)")
      ->group(tracing);
  app.add_flag("--no-history", t.no_history, "do not record this job in the job history")->group(tracing);

}

// init, backup, snapshots, ls, diff, restore, check, key.
void AddRepositoryCommands(CLI::App& app, Commands* cmds) {
  auto* init = app.add_subcommand("init", "create a new repository");
  init->callback([cmds] { cmds->rc = Traced(cmds->g, "init", {}, [&] { return RunInit(cmds->g); }); });

  auto* b = app.add_subcommand("backup", "back up files and directories into a new snapshot");
  b->add_option("paths", cmds->backup.paths, "files and directories to back up")->required();
  b->add_option("--tag", cmds->backup.tags, "tag the snapshot with KEY=VALUE (repeatable)")->allow_extra_args(false);
  b->add_option("--host", cmds->backup.host, "host name to record (default: this host's name)");
  b->add_option("-e,--exclude", cmds->backup.excludes, "exclude paths matching PATTERN (repeatable)")->allow_extra_args(false);
  b->add_option("--exclude-file", cmds->backup.exclude_files, "read exclude patterns from FILE (repeatable)")->allow_extra_args(false);
  b->add_option("--checkpoint-interval", cmds->backup.checkpoint_interval,
                "write the index this often, so an interrupted backup keeps its uploads (default 1m)");
  b->add_option("--compression", cmds->backup.compression, "compression: off, auto or max")
      ->check(CLI::IsMember({"off", "auto", "max"}));
  b->add_option("--time", cmds->backup.time,
                "record the snapshot at this time, e.g. '2026-11-24 13:04:05' (local) or RFC 3339");
  b->callback([cmds] { cmds->rc = Traced(cmds->g, "backup", cmds->backup.tags, [&] { return RunBackup(cmds->g, cmds->backup); }); });

  auto* s = app.add_subcommand("snapshots", "list snapshots");
  s->add_option("--tag", cmds->snaps.tags, "only snapshots with tag KEY=VALUE (repeatable)")->allow_extra_args(false);
  s->add_option("--host", cmds->snaps.host, "only snapshots of this host");
  s->callback([cmds] { cmds->rc = RunSnapshots(cmds->g, cmds->snaps); });

  auto* l = app.add_subcommand("ls", "list the files in a snapshot");
  l->add_option("snapshot", cmds->ls.snapshot, "snapshot id, unique id prefix, or latest")->required();
  l->add_option("path", cmds->ls.path, "list only this path and what is below it");
  l->callback([cmds] { cmds->rc = RunLs(cmds->g, cmds->ls); });

  auto* d = app.add_subcommand("diff", "show what changed between two snapshots");
  d->add_option("first", cmds->diff.first, "older snapshot")->required();
  d->add_option("second", cmds->diff.second, "newer snapshot")->required();
  d->callback([cmds] { cmds->rc = RunDiff(cmds->g, cmds->diff); });

  auto* r = app.add_subcommand("restore", "restore a snapshot into a directory");
  r->add_option("snapshot", cmds->restore.snapshot, "snapshot id, unique id prefix, or latest")->required();
  r->add_option("-t,--target", cmds->restore.target, "directory to restore into")->required();
  r->add_option("-i,--include", cmds->restore.includes, "restore only paths matching PATTERN (repeatable)")->allow_extra_args(false);
  r->add_option("--host", cmds->restore.host, "with latest: only snapshots of this host");
  r->add_option("--tag", cmds->restore.tags, "with latest: only snapshots with tag KEY=VALUE")->allow_extra_args(false);
  r->add_flag("--overwrite", cmds->restore.overwrite, "allow a non-empty target and replace files in it");
  r->add_flag("--verify", cmds->restore.verify, "re-read restored files and check their content");
  r->callback([cmds] { cmds->rc = Traced(cmds->g, "restore", cmds->restore.tags, [&] { return RunRestore(cmds->g, cmds->restore); }); });

  auto* c = app.add_subcommand("check", "verify the repository's structure and, optionally, data");
  auto* rd = c->add_flag("--read-data", cmds->check.read_data, "read and verify all data");
  c->add_option("--read-data-subset", cmds->check.read_data_subset,
                "read and verify a random PERCENT of the packs, e.g. 10%")
      ->excludes(rd);
  c->callback([cmds] { cmds->rc = Traced(cmds->g, "check", {}, [&] { return RunCheck(cmds->g, cmds->check); }); });

  auto* k = app.add_subcommand("key", "manage the passwords (key files) that open the repository");
  k->require_subcommand(1);
  auto* ka = k->add_subcommand("add", "add a password");
  ka->add_option("--new-password-file", cmds->key.new_password_file, "file holding the new password");
  ka->callback([cmds] { cmds->key.action = "add"; cmds->rc = Traced(cmds->g, "key add", {}, [&] { return RunKey(cmds->g, cmds->key); }); });
  auto* kl = k->add_subcommand("list", "list key files");
  kl->callback([cmds] { cmds->key.action = "list"; cmds->rc = RunKey(cmds->g, cmds->key); });
  auto* kr = k->add_subcommand("remove", "remove a key file");
  kr->add_option("id", cmds->key.id, "key id or unique prefix")->required();
  kr->callback([cmds] { cmds->key.action = "remove"; cmds->rc = Traced(cmds->g, "key remove", {}, [&] { return RunKey(cmds->g, cmds->key); }); });

}

// forget, prune, unlock, repair.
void AddMaintenanceCommands(CLI::App& app, Commands* cmds) {
  auto add_prune_options = [](CLI::App* cmd, PruneCommand* p) {
    cmd->add_option("--max-unused", p->max_unused,
                    "unused data allowed to stay in partly used packs, as PERCENT of the repository "
                    "or 'unlimited' (default 5%)");
    cmd->add_option("--grace", p->grace,
                    "wait at least this long between marking packs and deleting them (default 10s)");
  };

  auto* f = app.add_subcommand("forget", "remove snapshots by id or by a retention policy");
  f->add_option("snapshots", cmds->forget.snapshots, "snapshot ids to remove (in addition to the policy)");
  f->add_option("-l,--keep-last", cmds->forget.keep_last, "keep the newest N snapshots ('unlimited' for all)");
  f->add_option("-H,--keep-hourly", cmds->forget.keep_hourly, "keep the newest snapshot of each of the last N hours");
  f->add_option("-d,--keep-daily", cmds->forget.keep_daily, "keep the newest snapshot of each of the last N days");
  f->add_option("-w,--keep-weekly", cmds->forget.keep_weekly, "keep the newest snapshot of each of the last N ISO weeks");
  f->add_option("-m,--keep-monthly", cmds->forget.keep_monthly, "keep the newest snapshot of each of the last N months");
  f->add_option("-y,--keep-yearly", cmds->forget.keep_yearly, "keep the newest snapshot of each of the last N years");
  f->add_option("--keep-within", cmds->forget.keep_within,
                "keep every snapshot within DURATION (e.g. 1y5m7d2h) of the newest");
  f->add_option("--keep-within-hourly", cmds->forget.within_hourly, "keep hourly snapshots within DURATION of the newest");
  f->add_option("--keep-within-daily", cmds->forget.within_daily, "keep daily snapshots within DURATION of the newest");
  f->add_option("--keep-within-weekly", cmds->forget.within_weekly, "keep weekly snapshots within DURATION of the newest");
  f->add_option("--keep-within-monthly", cmds->forget.within_monthly, "keep monthly snapshots within DURATION of the newest");
  f->add_option("--keep-within-yearly", cmds->forget.within_yearly, "keep yearly snapshots within DURATION of the newest");
  f->add_option("--keep-tag", cmds->forget.keep_tags, "keep snapshots with tag KEY=VALUE (repeatable)")->allow_extra_args(false);
  f->add_option("--group-by", cmds->forget.group_by, "group snapshots by host, paths, tags (default host,paths)");
  f->add_option("--tag", cmds->forget.tags, "only consider snapshots with tag KEY=VALUE (repeatable)")->allow_extra_args(false);
  f->add_option("--host", cmds->forget.host, "only consider snapshots of this host");
  f->add_flag("-n,--dry-run", cmds->forget.dry_run, "print what would be removed, remove nothing");
  f->add_flag("--prune", cmds->forget.prune, "run prune afterwards if snapshots were removed");
  add_prune_options(f, &cmds->forget.prune_options);
  f->callback([cmds] { cmds->rc = Traced(cmds->g, "forget", cmds->forget.tags, [&] { return RunForget(cmds->g, cmds->forget); }); });

  auto* pr = app.add_subcommand("prune", "remove data no snapshot references (backups may keep running)");
  pr->add_flag("-n,--dry-run", cmds->prune.dry_run, "print what would be removed, remove nothing");
  add_prune_options(pr, &cmds->prune);
  pr->callback([cmds] { cmds->rc = Traced(cmds->g, "prune", {}, [&] { return RunPrune(cmds->g, cmds->prune); }); });

  auto* u = app.add_subcommand("unlock", "remove stale locks");
  u->add_flag("--remove-all", cmds->unlock.remove_all, "remove every lock, stale or not");
  u->callback([cmds] { cmds->rc = Traced(cmds->g, "unlock", {}, [&] { return RunUnlock(cmds->g, cmds->unlock); }); });

  auto* rp = app.add_subcommand("repair", "repair a damaged repository");
  rp->require_subcommand(1);
  auto* ri = rp->add_subcommand("index", "rebuild the index from the packs' headers, replacing every index file");
  ri->callback([cmds] { cmds->rc = Traced(cmds->g, "repair index", {}, [&] { return RunRepairIndex(cmds->g); }); });

}

// jobs, trace: the local job history.
void AddHistoryCommands(CLI::App& app, Commands* cmds) {
  auto* jb = app.add_subcommand("jobs", "list recent jobs from the local job history");
  jb->add_option("--tag", cmds->jobs.tags, "only jobs with tag KEY=VALUE (repeatable)")->allow_extra_args(false);
  jb->add_option("--status", cmds->jobs.status, "only jobs with this status (error: any but ok)")
      ->check(CLI::IsMember({"ok", "partial", "failed", "interrupted", "error"}));
  jb->add_option("--since", cmds->jobs.since, "only jobs that started within DURATION, e.g. 24h or 7d");
  jb->add_option("-n,--limit", cmds->jobs.limit, "at most this many cmds->jobs, newest first (default 50)");
  jb->callback([cmds] { cmds->rc = RunJobs(cmds->g, cmds->jobs); });

  auto* tr = app.add_subcommand("trace", "draw a job's trace as a waterfall");
  tr->add_option("id", cmds->trace_cmd.id, "job id or trace id (or a unique prefix) from 'backspan jobs', or latest")->required();
  tr->add_option("--width", cmds->trace_cmd.width, "width of the time axis in columns");
  tr->callback([cmds] { cmds->rc = RunTrace(cmds->g, cmds->trace_cmd); });

}

void AddServeCommand(CLI::App& app, Commands* cmds) {
  auto* sv = app.add_subcommand("serve", "run the observatory: OTLP receiver, trace store, web UI, API and /metrics");
  sv->add_option("--listen", cmds->serve.listen, "HOST:PORT to listen on (default 127.0.0.1:4318, the OTLP/HTTP port)");
  sv->add_option("--data", cmds->serve.data, "directory of the trace store (default: the state directory's observatory/)");
  sv->add_option("--store", cmds->serve.store,
                 "a PostgreSQL store several replicas share: postgresql://USER@HOST:PORT/DB?... (libpq's URI; "
                 "PG* variables and ~/.pgpass apply); --data then keeps only this replica's own files");
  sv->add_option("--retention", cmds->serve.retention, "delete data older than this, e.g. 30d (default: keep)");
  sv->add_option("--max-size", cmds->serve.max_size, "delete the oldest data beyond this size, e.g. 10GiB");
  sv->add_option("--stale-after", cmds->serve.stale_after,
                 "a source with no learned schedule is overdue after this long without a success (default 26h)");
  sv->add_option("--max-body", cmds->serve.max_body, "largest request body accepted, as sent and unzipped (default 20MiB)");
  sv->add_option("--insight-quota", cmds->serve.insight_quota,
                 "stored bytes a source's repository may hold: growth forecasts say when it will be reached (e.g. 2TiB)");
  sv->add_option("--forward", cmds->serve.forward,
                 "send accepted spans on to this OTLP/HTTP traces URL, redacted (repeatable; "
                 "URL[,headers=FILE][,queue=SIZE], FILE holding 'Name: value' lines)");
  sv->add_option("--sync", cmds->serve.sync, "full: fsync each commit (default); normal: survive crashes, not power loss")
      ->check(CLI::IsMember({"full", "normal"}));
  sv->add_option("--lost-after", cmds->serve.lost_after,
                 "a running job with no update for this long is shown as lost (default 6h; 0: never)");
  sv->add_option("--ingest-token-file", cmds->serve.ingest_token_file,
                 "file holding the secret /api/v1/ingest/* requires (default: $BACKSPAN_INGEST_TOKEN, else none)");
  sv->add_option("--oidc-issuer", cmds->serve.oidc_issuer,
                 "require OIDC bearer tokens from this issuer (discovered at ISSUER/.well-known/openid-configuration)");
  sv->add_option("--oidc-audience", cmds->serve.oidc_audiences, "an accepted token audience (repeatable; default: backspan)")
      ->allow_extra_args(false);
  sv->add_option("--access-config", cmds->serve.access_config, "roles and assignments (JSON; re-read when it changes)");
  sv->add_option("--plans", cmds->serve.plans, "backup plans the API may run and whose retention it may change (JSON)");
  sv->add_option("--notify", cmds->serve.notify, "notification channels and rules (TOML; docs/notifications.md)");
  sv->add_flag("--insecure-no-auth", cmds->serve.insecure_no_auth, "serve a non-loopback address without access control");
  sv->add_option("--threads", cmds->serve.threads, "HTTP worker threads (default 8)")->check(CLI::Range(2, 256));
  const std::string limits = "Limits (docs/observatory.md)";
  sv->add_option("--max-connections", cmds->serve.max_connections, "open connections at most; more get 503 (default 1024)")
      ->check(CLI::Range(16, 1 << 20))->group(limits);
  sv->add_option("--max-header-size", cmds->serve.max_header_size, "a request's line and header fields at most (default 64KiB)")
      ->group(limits);
  sv->add_option("--header-timeout", cmds->serve.header_timeout, "time to send a request's whole header (default 10s)")->group(limits);
  sv->add_option("--body-timeout", cmds->serve.body_timeout,
                 "grace for a request body, after which it must arrive at --min-rate (default 20s)")->group(limits);
  sv->add_option("--min-rate", cmds->serve.min_rate, "slowest rate, per second, of bodies and answers after their grace (default 500B)")
      ->group(limits);
  sv->add_option("--idle-timeout", cmds->serve.idle_timeout, "close a kept-alive connection idle this long (default 60s)")->group(limits);
  sv->add_option("--max-queued", cmds->serve.max_queued, "requests waiting for a worker at most; more get 503 (default 256)")
      ->check(CLI::Range(1, 1 << 20))->group(limits);
  sv->add_option("--max-buffered", cmds->serve.max_buffered,
                 "request and answer bytes held in memory at most; more get 503 (default 256MiB)")->group(limits);
  sv->add_option("--decode-memory", cmds->serve.decode_memory,
                 "memory for decoding request bodies at once; more waits, then gets 503 (default 512MiB)")->group(limits);
  sv->add_option("--shutdown-timeout", cmds->serve.shutdown_timeout,
                 "on SIGTERM, time to finish answering what was read in full (default 10s)")->group(limits);
  sv->callback([cmds] { cmds->rc = RunServe(cmds->g, cmds->serve); });

  auto* ag = app.add_subcommand("agent", "run this host's backup policies on their schedules (docs/agent.md)");
  ag->add_option("--config", cmds->agent.config, "the agent's configuration file (TOML)")->required();
  ag->add_flag("--once", cmds->agent.once, "run what is due now, report what was missed, and exit (for cron)");
  ag->add_flag("--check", cmds->agent.check, "check the file and print each policy's next five runs");
  ag->add_option("--deliver-timeout", cmds->agent.deliver_timeout,
                 "with --once: how long to try delivering to the observatory before leaving it spooled (default 30s)");
  ag->callback([cmds] { cmds->rc = RunAgent(cmds->g, cmds->agent); });

}

// audit, store and wrap: the observatory's log and store, and other tools' jobs.
void AddAuditAndWrapCommands(CLI::App& app, Commands* cmds) {
  auto* st = app.add_subcommand("store", "manage the observatory's store");
  st->require_subcommand(1);
  auto* sc = st->add_subcommand("copy", "copy a SQLite store (serve --data) into PostgreSQL (serve --store); resumable, verified by counts");
  sc->add_option("--from", cmds->store_copy.from, "the SQLite store's directory")->required();
  sc->add_option("--to", cmds->store_copy.to, "the PostgreSQL store: postgresql://USER@HOST:PORT/DB?...")->required();
  sc->add_option("--batch", cmds->store_copy.batch, "rows per transaction (default 2000)")->check(CLI::Range(1, 100000));
  sc->callback([cmds] { cmds->rc = RunStoreCopy(cmds->g, cmds->store_copy); });

  auto* au = app.add_subcommand("audit", "check and read the observatory's tamper-evident audit log");
  au->require_subcommand(1);
  au->add_option("--data", cmds->audit_cmd.data,
                 "the observatory's data directory (as serve --data); verify takes several, one per replica");
  auto* av = au->add_subcommand("verify", "check every record's hash and link; exit 1 if any was edited, removed, reordered or cut off");
  av->callback([cmds] { cmds->rc = RunAuditVerify(cmds->g, cmds->audit_cmd); });
  auto* al = au->add_subcommand("list", "print audit records, oldest first");
  al->add_option("--since", cmds->audit_cmd.since, "only records newer than this: a duration (24h) or a time");
  al->add_option("--subject", cmds->audit_cmd.subject, "only this principal's (the token's sub)");
  al->add_option("--action", cmds->audit_cmd.action, "only this action, e.g. traces.read");
  al->add_option("--result", cmds->audit_cmd.result, "only allowed, denied or error")->check(CLI::IsMember({"allowed", "denied", "error"}));
  al->add_option("--scope", cmds->audit_cmd.scope, "only this scope, e.g. a resource group");
  al->add_option("--limit", cmds->audit_cmd.limit, "the newest this many (default 100)");
  al->callback([cmds] { cmds->rc = RunAuditList(cmds->g, cmds->audit_cmd); });

  auto* wr = app.add_subcommand("wrap", "run another backup tool (restic, borg, any command) as a traced job");
  wr->add_option("--tag", cmds->wrap_cmd.tags, "KEY=VALUE on the job's spans, e.g. azure.resource_group.name=rg-prod (repeatable)")
      ->allow_extra_args(false);
  wr->add_option("--kind", cmds->wrap_cmd.kind, "the job's kind (default: from the command, e.g. restic backup -> cmds->backup)");
  wr->add_option("command", cmds->wrap_cmd.command, "the command to run, after --")->required();
  wr->footer("Example: backspan wrap --tag env=prod -- restic -r /srv/repo backup /home --json");
  wr->callback([cmds] { cmds->rc = RunWrap(cmds->g, cmds->wrap_cmd); });

}

}  // namespace

int Main(int argc, char** argv) {
  if (!backspan::crypto::Init().ok()) return kExitFailure;
  // Past a file-size limit (ulimit -f) a write fails with EFBIG, reported
  // like any write error, instead of the signal killing the job silently.
  std::signal(SIGXFSZ, SIG_IGN);
  StopOnSignals();
  CLI::App app{"backspan: fast, deduplicating, encrypted backups that you can observe"};
  app.set_version_flag("--version", std::string("backspan ") + BACKSPAN_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  Commands cmds;
  AddGlobalOptions(app, cmds.g);
  AddTracingOptions(app, cmds.g.trace);
  AddRepositoryCommands(app, &cmds);
  AddMaintenanceCommands(app, &cmds);
  AddHistoryCommands(app, &cmds);
  AddServeCommand(app, &cmds);
  AddAuditAndWrapCommands(app, &cmds);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return cmds.rc;
}

}  // namespace backspan::cli
