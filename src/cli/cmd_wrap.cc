// `backspan wrap -- COMMAND...`: another tool's run as a backspan job trace.
#include <signal.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/telemetry.h"
#include "trace/semconv.h"
#include "wrap/child_process.h"
#include "wrap/tool_output.h"

namespace backspan::cli {
namespace {

// Ctrl-C reaches the child too (one process group); wrap lives on to record
// how the child ended. A handler, not SIG_IGN: exec resets handlers, so the
// child still gets the default action.
void IgnoreWhileChildRuns(int) {}

}  // namespace

int RunWrap(const GlobalOptions& g, const WrapCommand& c) {
  for (const auto& t : c.tags)
    if (t.find('=') == std::string::npos || t.front() == '=') return UsageError(g, "--tag must be KEY=VALUE, not '" + t + "'");
  const wrap::WrappedCommand command = wrap::Identify(c.command);
  const std::string kind = c.kind.empty() ? command.kind : c.kind;

  JobTelemetry job(g, kind, c.tags);
  trace::Span& root = job.root();
  root.SetAttribute(semconv::kProcessExecutableName, command.tool);
  root.SetAttribute(semconv::kWrapTool, command.tool);
  if (!command.subcommand.empty()) root.SetAttribute(semconv::kWrapSubcommand, command.subcommand);
  std::unique_ptr<wrap::ToolOutput> output = wrap::MakeToolOutput(command, root);
  job.SetProgressSource([&output](trace::Attributes& a) { output->Progress(a); });

  struct sigaction quiet {}, old_int {}, old_term {};
  quiet.sa_handler = IgnoreWhileChildRuns;
  sigaction(SIGINT, &quiet, &old_int);
  sigaction(SIGTERM, &quiet, &old_term);
  wrap::ChildOptions io;
  io.on_stdout = [&output](std::string_view line) { output->OnStdout(line); };
  io.on_stderr = [&output](std::string_view line) { output->OnStderr(line); };
  auto exit_code = wrap::RunChild(c.command, io);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  job.SetProgressSource({});

  if (!exit_code.ok()) {
    // As a shell does: 127 when the command cannot be run.
    std::fprintf(stderr, "Fatal: %s\n", exit_code.status().message().c_str());
    output->Finish(127);
    job.RecordError(exit_code.status());
    job.Finish(127);
    return 127;
  }
  output->Finish(*exit_code);
  if (*exit_code != 0)
    job.RecordError(Status::Internal(command.tool + " exited with code " + std::to_string(*exit_code)));
  job.Finish(*exit_code);
  return *exit_code;
}

}  // namespace backspan::cli
