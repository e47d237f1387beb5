// What every command needs: the repository from the global options, the
// password, the host's identity and uniform error reporting.
#pragma once

#include <memory>
#include <string>

#include "cli/commands.h"
#include "repository/lock.h"
#include "repository/repository.h"
#include "trace/tracer.h"
#include "util/status.h"

namespace backspan::cli {

// The repository location from --repo or BACKSPAN_REPOSITORY.
std::string RepositoryLocation(const GlobalOptions& g);

// The password from --password-file, --password-command,
// BACKSPAN_PASSWORD_FILE, BACKSPAN_PASSWORD_COMMAND, BACKSPAN_PASSWORD, or a
// prompt on the terminal (asked twice if `confirm`). A password command
// gets TRACEPARENT for `span`, the phase that asks.
Result<std::string> ReadPassword(const GlobalOptions& g, bool confirm, const trace::Span& span = {});
// Runs `command` with /bin/sh; its first line of output is the password.
Result<std::string> RunPasswordCommand(const std::string& command, const trace::Span& span);
// The first line of a password file, without its line ending.
Result<std::string> ReadPasswordFile(const std::string& path);
// Prompts on /dev/tty without echo; kInvalidArgument if there is no terminal.
Result<std::string> PromptPassword(const std::string& prompt, bool confirm);

// The backend of the repository location, with the storage options of the
// command line; `span` (the job's) gets an event per storage retry.
Result<std::unique_ptr<Backend>> OpenLocation(const GlobalOptions& g, const trace::Span& span);
// Puts the storage requests a backend made on the job's root span.
void RecordStorageCounts(const Backend& backend, trace::Span& root);

enum class LockKind { kNone, kShared, kExclusive };

// An open repository and the lock the job holds on it (released first).
struct OpenedRepository {
  std::unique_ptr<Repository> repo;
  std::unique_ptr<RepositoryLock> lock;
  Repository* get() const { return repo.get(); }
  Repository* operator->() const { return repo.get(); }
  Repository& operator*() const { return *repo; }
  const trace::Span* job_span = nullptr;  // releasing the lock is the "unlock" phase
  trace::Span* root_span = nullptr;       // gets the storage requests made
  ~OpenedRepository() {
    if (lock) {
      trace::Span unlock = job_span ? job_span->StartChild("unlock") : trace::Span();
      lock.reset();
    }
    if (repo && root_span) RecordStorageCounts(*repo->backend(), *root_span);
  }
  OpenedRepository() = default;
  OpenedRepository(OpenedRepository&&) = default;
  OpenedRepository& operator=(OpenedRepository&&) = default;
};

// Opens the repository, takes a lock of `lock` kind for `command` (before
// reading the index, as the pruning protocol requires), and with
// `load_index` reads the index.
Result<OpenedRepository> OpenRepository(const GlobalOptions& g, bool load_index,
                                        LockKind lock = LockKind::kNone, const char* command = "");

// Reads the index of an opened repository for a job that only reads, or
// with `for_writing` for a backup. A damaged index file does not stop it:
// each is a warning (and an event on the job's span) saying what to run.
Status LoadIndexOrWarn(const GlobalOptions& g, Repository* repo, bool for_writing);

// Prints a warning (as JSON on stderr with --json; nothing with --quiet).
void Warn(const GlobalOptions& g, const std::string& message);
// Prints a fatal error (as JSON on stderr with --json) and returns exit code 1.
int Fail(const GlobalOptions& g, const Status& status);
// Prints a usage error and returns exit code 2.
int UsageError(const GlobalOptions& g, const std::string& message);

// Runs prune on a repository opened with an exclusive lock and no index;
// prints the result and returns the exit code. Shared by prune and forget.
int PruneOpened(const GlobalOptions& g, OpenedRepository& repo, const PruneCommand& c);

std::string Hostname();
std::string Username();

}  // namespace backspan::cli
