// What every command needs: the repository from the global options, the
// password, the host's identity and uniform error reporting.
#pragma once

#include <memory>
#include <string>

#include "cli/commands.h"
#include "repository/repository.h"
#include "util/status.h"

namespace backspan::cli {

// The repository location from --repo or BACKSPAN_REPOSITORY.
std::string RepositoryLocation(const GlobalOptions& g);

// The password from --password-file, BACKSPAN_PASSWORD_FILE,
// BACKSPAN_PASSWORD, or a prompt on the terminal (asked twice if `confirm`).
Result<std::string> ReadPassword(const GlobalOptions& g, bool confirm);
// The first line of a password file, without its line ending.
Result<std::string> ReadPasswordFile(const std::string& path);
// Prompts on /dev/tty without echo; kInvalidArgument if there is no terminal.
Result<std::string> PromptPassword(const std::string& prompt, bool confirm);

// Opens the repository; with `load_index` also reads its index.
Result<std::unique_ptr<Repository>> OpenRepository(const GlobalOptions& g, bool load_index);

// Prints a fatal error (as JSON on stderr with --json) and returns exit code 1.
int Fail(const GlobalOptions& g, const Status& status);
// Prints a usage error and returns exit code 2.
int UsageError(const GlobalOptions& g, const std::string& message);

std::string Hostname();
std::string Username();

}  // namespace backspan::cli
