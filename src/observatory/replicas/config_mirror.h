// A configuration file that replicas sharing a store keep in step through
// one shared document (docs/scaling.md, "What replicas share"): what the
// API writes into one replica's file (PUT /api/v1/access, a plan's
// retention), or an operator edits there, reaches every replica's file
// within seconds, and each reloads it as it reloads any edit. The shared
// document is the truth: at startup it replaces a file that differs.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "env/env.h"
#include "observatory/store/shared_state.h"
#include "util/periodic_thread.h"
#include "util/status.h"

namespace backspan::observatory {

class ConfigMirror {
 public:
  // Checks a file's text before it is shared (InvalidArgument naming what
  // is wrong): a bad edit stays in its replica's file.
  using Validate = std::function<Status(std::string_view text)>;
  ConfigMirror(Env* env, std::string path, std::string name, SharedState* docs, Validate validate)
      : env_(env), path_(std::move(path)), name_(std::move(name)), docs_(docs), validate_(std::move(validate)) {}

  const std::string& path() const { return path_; }
  // Before the file is first read: if the document exists and differs,
  // it replaces the file, and the returned note says so (empty if not);
  // if there is none yet, the file's text becomes it.
  Result<std::string> Start();
  // Brings file and document in step once: a document newer than the one
  // last seen replaces the file (true: reload it); else a file changed
  // since is shared. InvalidArgument for an edit that does not validate
  // (not shared, and not reported again until the file changes).
  Result<bool> Poll();

 private:
  Result<std::string> ReadFile();
  // Writes `text` if the file holds something else; notes its mtime.
  Result<bool> WriteFile(const std::string& text);
  Result<int64_t> MtimeNs();

  Env* env_;
  std::string path_, name_;
  SharedState* docs_;
  Validate validate_;
  int64_t seen_version_ = 0, seen_mtime_ns_ = -1;
};

// Polls mirrors once a second in a thread of its own, calling a mirror's
// `on_replaced` when the document replaced its file; problems go to stderr.
class ConfigMirrorLoop {
 public:
  struct Entry {
    std::unique_ptr<ConfigMirror> mirror;
    std::function<void()> on_replaced;  // may be empty
  };
  explicit ConfigMirrorLoop(std::vector<Entry> entries);

 private:
  void PollAll();
  std::vector<Entry> entries_;
  std::vector<std::string> last_error_;  // per entry: reported once, not every second
  PeriodicThread thread_;                // last: stops first
};

}  // namespace backspan::observatory
