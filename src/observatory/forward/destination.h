// Where `serve --forward` sends spans: an OTLP/HTTP traces URL, the headers
// it needs (an API token, from a file so it stays out of `ps` and shell
// history) and how much may wait for it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::observatory {

struct ForwardDestination {
  std::string url;    // e.g. https://ingest.lightstep.com/traces/otlp/v0.9
  std::string label;  // the URL without credentials or query: for logs and metrics
  std::vector<std::pair<std::string, std::string>> headers;
  uint64_t queue_bytes = 64ull << 20;  // compressed spans waiting; beyond, new spans are dropped
};

// Parses "URL[,headers=FILE][,queue=SIZE]" (--forward), reading FILE through
// `env`: one "Name: value" per line, blank lines and lines starting with
// '#' ignored. InvalidArgument naming what is wrong.
Result<ForwardDestination> ParseForwardDestination(const std::string& spec, Env* env);

// Parses a headers file's text; `path` names it in errors.
Result<std::vector<std::pair<std::string, std::string>>> ParseHeaderLines(const std::string& text,
                                                                         const std::string& path);

}  // namespace backspan::observatory
