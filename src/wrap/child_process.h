// Running another program with its output watched: `backspan wrap` passes
// the child's stdout and stderr through unchanged while handing each line
// to a parser; the observatory runs plans' jobs with their output kept.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace backspan::wrap {

struct ChildOptions {
  // Called with each complete line (without its newline), stdout and
  // stderr in the order they were read; a last unterminated line too.
  std::function<void(std::string_view line)> on_stdout, on_stderr;
  bool pass_through = true;  // also copy the bytes to our own stdout and stderr
  // KEY=VALUE entries that replace or add to the inherited environment.
  std::vector<std::string> environment;
  bool null_stdin = false;  // stdin from /dev/null instead of ours
  // Called with the child's pid once it runs (to signal it).
  std::function<void(int pid)> on_start;
};

// Runs argv[0] (found in PATH) with `argv`, inheriting stdin (unless
// null_stdin) and the environment (with `options.environment` applied);
// returns its exit code, 128 + the signal if a signal ended it.
// NotFound if the program could not be started.
Result<int> RunChild(const std::vector<std::string>& argv, const ChildOptions& options);

}  // namespace backspan::wrap
