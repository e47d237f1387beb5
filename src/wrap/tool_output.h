// What a wrapped backup tool's output says about its run, recorded on the
// job's spans: phases become child spans, errors and warnings become events,
// progress feeds the in-progress snapshots, and the final summary (files,
// bytes, snapshot id) becomes attributes of the job's root span. Knows
// `restic … --json` and `borg … --log-json`; any other command gets its
// exit status and the tail of its stderr.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "trace/tracer.h"

namespace backspan::wrap {

struct WrappedCommand {
  std::string tool;        // "restic", "borg", or the program's base name
  std::string subcommand;  // e.g. "backup", "create"; empty if unknown
  std::string kind;        // the job kind: backup, restore, check, forget, prune, ...
  bool structured = false; // restic with --json, borg with --log-json
};

// Recognizes restic and borg, their subcommand and whether they were asked
// for machine-readable output.
WrappedCommand Identify(const std::vector<std::string>& argv);

class ToolOutput {
 public:
  virtual ~ToolOutput() = default;
  // Each line the child writes; called from one thread.
  virtual void OnStdout(std::string_view line) = 0;
  virtual void OnStderr(std::string_view line) = 0;
  // The child exited with `exit_code`: ends open phases and records the
  // summary on the root span.
  virtual void Finish(int exit_code) = 0;
  // The progress so far as backspan.progress.* attributes; safe from any thread.
  virtual void Progress(trace::Attributes& out) = 0;
};

// A parser for `command` that records on `root` (which must outlive it).
std::unique_ptr<ToolOutput> MakeToolOutput(const WrappedCommand& command, trace::Span& root);

}  // namespace backspan::wrap
