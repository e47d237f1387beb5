// Checker: verifies a repository's structure and, optionally, its data.
//
// Structure: every index file decodes, every indexed pack exists and is
// long enough, every snapshot's trees load and every blob they reference is
// in the index. Data (--read-data): every pack is read, its hash checked
// against its name, and every blob decrypted, decompressed and rehashed.
// Damage is reported with the snapshots and files it affects.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "repository/repository.h"
#include "trace/tracer.h"

namespace backspan {

struct CheckOptions {
  bool read_data = false;
  double read_data_percent = 100;  // with read_data: share of packs to read, chosen at random
  // The job's span: each phase becomes a child span, the problems it finds
  // its events.
  const trace::Span* trace = nullptr;
};

struct CheckResult {
  std::vector<std::string> errors;    // one line each; empty means the repository is sound
  std::vector<std::string> notices;   // harmless findings, e.g. unreferenced packs
  struct Affected {
    std::string snapshot;  // id
    std::string path;
    std::string problem;
  };
  std::vector<Affected> affected;
  uint64_t packs = 0, packs_read = 0, blobs_read = 0, snapshots = 0, trees = 0;
  bool ok() const { return errors.empty(); }
};

struct CheckProgress {
  std::atomic<uint64_t> packs_total{0}, packs_done{0};
};

class Checker {
 public:
  // Loads the index of `repo` itself; `repo` must not have loaded it.
  Checker(Repository* repo, CheckOptions options) : repo_(repo), opts_(options) {}

  // A Status error means the check itself could not run (e.g. I/O failure
  // listing files); damage found is reported in CheckResult.
  Result<CheckResult> Run();

  const CheckProgress& progress() const { return progress_; }

 private:
  Repository* repo_;
  CheckOptions opts_;
  CheckProgress progress_;
};

}  // namespace backspan
