// What `backspan wrap` reads from the tools it runs: restic's --json lines
// and borg's --log-json lines (stdout and stderr, as the first byte says),
// recorded on a real tracer's spans.
#include "env/env.h"
#include "fuzz.h"
#include "trace/exporter.h"
#include "trace/tracer.h"
#include "wrap/tool_output.h"

using namespace backspan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::vector<std::string> kCommands[] = {
      {"restic", "backup", "--json", "/srv"}, {"restic", "forget", "--json"}, {"borg", "create", "--log-json", "r::a", "/srv"},
      {"borg", "prune", "--log-json"}, {"sh", "-c", "true"}};
  const wrap::WrappedCommand command = wrap::Identify(kCommands[data[0] % 5]);
  trace::InMemoryExporter exporter;
  static const trace::Resource kResource;
  trace::SimpleProcessor processor(&kResource, &exporter);
  trace::Tracer tracer(&processor, Env::Default());
  trace::Span root = tracer.StartSpan("wrap");
  {
    auto output = wrap::MakeToolOutput(command, root);
    std::string_view in = fuzz::Text(data + 1, size - 1);
    while (!in.empty()) {
      const size_t nl = in.find('\n');
      const std::string_view line = in.substr(0, nl);
      (data[0] & 8) ? output->OnStderr(line) : output->OnStdout(line);
      in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    }
    trace::Attributes progress;
    output->Progress(progress);
    output->Finish(data[0] >> 4);
  }
  root.End();
  return 0;
}
