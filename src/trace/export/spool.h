// An on-disk queue of what is to be delivered to the observatory: the
// agent's and its jobs' spans, heartbeats and missed-run events, kept while
// the observatory is away and delivered in order when it answers again
// (docs/agent.md, "The spool"). Writers are any process (the agent, the
// backup jobs it starts); one reader, the agent, delivers and removes.
//
// Each entry is a file "<unix ns, 20 digits>-<pid>-<seq>.<kind>", written
// whole (temporary file, fsync, rename), so a reader never sees half an
// entry and names sort in the order they were written. The spool is
// bounded: an entry that would take it over its limit first drops the
// oldest entries, which are counted in the file "dropped".
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "trace/exporter.h"
#include "util/bytes.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::trace {

// The kinds of entries: an OTLP/protobuf ExportTraceServiceRequest, and a
// JSON heartbeat of the agent.
inline constexpr char kSpoolTraces[] = "otlp";
inline constexpr char kSpoolHeartbeat[] = "heartbeat";

class Spool {
 public:
  // The spool in `dir` (created if missing), at most `limit_bytes` big.
  Spool(Env* env, std::string dir, int64_t limit_bytes);

  // Adds an entry; drops the oldest if needed to stay under the limit. An
  // entry bigger than the whole limit is refused (InvalidArgument).
  Status Append(std::string_view kind, ByteView body);

  struct Entry {
    std::string name, kind;
    int64_t bytes = 0;
  };
  // The entries, oldest first.
  Result<std::vector<Entry>> List() const;
  Result<Bytes> Read(const Entry& entry) const;
  Status Remove(const Entry& entry);
  // Entries dropped to stay under the limit, since the spool was made.
  int64_t dropped() const;
  const std::string& dir() const { return dir_; }

 private:
  Status DropOldest(int64_t incoming);

  Env* env_;
  std::string dir_;
  int64_t limit_;
  std::mutex mu_;
  uint32_t seq_ = 0;
};

// A SpanExporter into a spool: each export is one entry.
class SpoolExporter final : public SpanExporter {
 public:
  SpoolExporter(Spool* spool, std::string scope_version) : spool_(spool), scope_version_(std::move(scope_version)) {}
  Status Export(const Resource& resource, const std::vector<SpanData>& spans, int64_t deadline_ns) noexcept override;

 private:
  Spool* spool_;
  std::string scope_version_;
};

}  // namespace backspan::trace
