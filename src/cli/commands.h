// The command-line commands. main.cc parses flags into these plain option
// structs (so the CLI parser stays in one translation unit) and calls the
// matching Run function, whose result is the process exit code.
#pragma once

#include <string>
#include <vector>

namespace backspan::cli {

// Exit codes, documented in docs/cli.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;  // SIGINT or SIGTERM stopped the job, as restic answers
inline constexpr int kExitIncomplete = 3;  // done in part: snapshot saved with files unreadable, index rebuilt without some packs

class JobTelemetry;

// How a job is traced: flags that override the OTEL_* environment, the
// redaction rules, and the job history's place (docs/tracing.md).
struct TraceOptions {
  std::string otlp_endpoint;  // as OTEL_EXPORTER_OTLP_ENDPOINT
  std::string otlp_protocol, otlp_compression, otlp_timeout;
  std::string otlp_progress_interval;     // in-progress snapshots; "0" turns them off
  std::vector<std::string> otlp_headers;  // KEY=VALUE
  std::string paths = "keep";             // keep, hash or drop file paths
  std::vector<std::string> redact;        // KEY_GLOB=keep|hash|drop
  std::string state_dir;                  // the job history's directory
  bool no_history = false;
};

struct GlobalOptions {
  std::string repo;           // --repo, else BACKSPAN_REPOSITORY
  std::string password_file;  // --password-file, else BACKSPAN_PASSWORD_FILE
  std::string password_command;  // --password-command, else BACKSPAN_PASSWORD_COMMAND
  bool json = false;
  bool quiet = false;
  // Cloud repositories (docs/cli.md, "Repositories").
  std::string cacert;                  // --cacert: PEM file of CAs to trust
  bool insecure_http = false;          // --insecure-http
  std::vector<std::string> options;    // -o KEY=VALUE
  std::string cache_dir;               // --cache-dir, else $XDG_CACHE_HOME/backspan
  bool no_cache = false;               // --no-cache
  TraceOptions trace;
  JobTelemetry* job = nullptr;  // the running job's trace, if it is traced
};

struct BackupCommand {
  std::vector<std::string> paths, tags, excludes, exclude_files;
  std::string host, compression = "auto";
  std::string checkpoint_interval = "1m";
  std::string time;  // record the snapshot at this time instead of now
};
struct SnapshotsCommand {
  std::vector<std::string> tags;
  std::string host;
};
struct LsCommand {
  std::string snapshot, path;
};
struct DiffCommand {
  std::string first, second;
};
struct RestoreCommand {
  std::string snapshot, target, host;
  std::vector<std::string> includes, tags;
  bool overwrite = false, verify = false;
};
struct CheckCommand {
  bool read_data = false;
  std::string read_data_subset;  // "10%" or "10"
};
struct KeyCommand {
  std::string action;  // add, list, remove
  std::string id;
  std::string new_password_file;
};

struct PruneCommand {
  bool dry_run = false;
  std::string max_unused = "5%";
  std::string grace = "10s";
};
struct ForgetCommand {
  std::vector<std::string> snapshots;  // explicit ids to remove
  std::string keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly;
  std::string keep_within, within_hourly, within_daily, within_weekly, within_monthly, within_yearly;
  std::vector<std::string> keep_tags, tags;
  std::string host, group_by = "host,paths";
  bool dry_run = false, prune = false;
  PruneCommand prune_options;
};
struct JobsCommand {
  std::vector<std::string> tags;
  std::string status;  // ok or error
  std::string since;   // a duration, e.g. 24h
  size_t limit = 50;
};
struct TraceCommand {
  std::string id;  // job id or trace id, or a unique prefix
  unsigned width = 0;  // bar width; 0: fit the terminal
};
struct AgentCommand {
  std::string config;
  bool once = false;   // run what is due now and exit
  bool check = false;  // validate the file and print the next runs
  std::string deliver_timeout = "30s";  // --once: how long to try delivering the spool
};
struct ServeCommand {
  std::string listen = "127.0.0.1:4318";
  std::string store;  // a postgresql:// URI: the shared store instead of --data
  std::string data;            // default: <state dir>/observatory
  std::string retention;       // e.g. 30d; empty: keep everything
  std::string max_size;        // e.g. 10GiB; empty: no limit
  std::string stale_after = "26h";
  std::string max_body = "20MiB";
  std::string insight_quota;  // empty: no growth forecasts
  std::vector<std::string> forward;  // URL[,headers=FILE][,queue=SIZE]: OTLP/HTTP backends to send spans on to
  std::string sync = "full";   // full or normal
  std::string lost_after = "6h";
  std::string ingest_token_file;  // else $BACKSPAN_INGEST_TOKEN; empty: no token
  std::string oidc_issuer;        // turns access control on
  std::vector<std::string> oidc_audiences;
  std::string access_config;      // roles and assignments; required with an issuer
  bool insecure_no_auth = false;  // serve a non-loopback address without access control
  std::string plans;              // backup plans the API may run; empty: none
  std::string notify;             // notification channels and rules (TOML); empty: none
  int threads = 8;
  // The HTTP server's limits (docs/observatory.md, "Limits").
  int max_connections = 1024;
  std::string max_header_size = "64KiB";
  std::string header_timeout = "10s", body_timeout = "20s", idle_timeout = "60s", shutdown_timeout = "10s";
  std::string min_rate = "500B";  // per second, for bodies and answers after their grace
  int max_queued = 256;
  std::string max_buffered = "256MiB";
  std::string decode_memory = "512MiB";
};
struct WrapCommand {
  std::vector<std::string> command;  // the program and its arguments
  std::vector<std::string> tags;     // KEY=VALUE, on the job's spans
  std::string kind;                  // default: from the command (restic backup -> backup)
};
struct AuditCommand {
  // The observatory's --data; default <state dir>/observatory. Several for
  // verify: replicas sharing a PostgreSQL store keep one chain each.
  std::vector<std::string> data;
  std::string since, subject, action, result, scope;
  int limit = 100;
};
struct StoreCopyCommand {
  std::string from;  // a SQLite store's directory (serve --data)
  std::string to;    // a postgresql:// URI (serve --store)
  int batch = 2000;  // rows a transaction
};
struct UnlockCommand {
  bool remove_all = false;
};

// Parses the command line and runs the command; returns the exit code.
int Main(int argc, char** argv);

int RunInit(const GlobalOptions& g);
int RunBackup(const GlobalOptions& g, const BackupCommand& c);
int RunSnapshots(const GlobalOptions& g, const SnapshotsCommand& c);
int RunLs(const GlobalOptions& g, const LsCommand& c);
int RunDiff(const GlobalOptions& g, const DiffCommand& c);
int RunRestore(const GlobalOptions& g, const RestoreCommand& c);
int RunCheck(const GlobalOptions& g, const CheckCommand& c);
int RunKey(const GlobalOptions& g, const KeyCommand& c);
int RunForget(const GlobalOptions& g, const ForgetCommand& c);
int RunPrune(const GlobalOptions& g, const PruneCommand& c);
int RunUnlock(const GlobalOptions& g, const UnlockCommand& c);
int RunRepairIndex(const GlobalOptions& g);
int RunJobs(const GlobalOptions& g, const JobsCommand& c);
int RunTrace(const GlobalOptions& g, const TraceCommand& c);
int RunServe(const GlobalOptions& g, const ServeCommand& c);
int RunAgent(const GlobalOptions& g, const AgentCommand& c);
int RunWrap(const GlobalOptions& g, const WrapCommand& c);
int RunAuditVerify(const GlobalOptions& g, const AuditCommand& c);
int RunAuditList(const GlobalOptions& g, const AuditCommand& c);
int RunStoreCopy(const GlobalOptions& g, const StoreCopyCommand& c);

}  // namespace backspan::cli
