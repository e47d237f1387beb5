#include "repairer/index_repair.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace backspan {

Result<IndexRepairStats> RepairIndex(Repository* repo, const trace::Span* trace) {
  IndexRepairStats stats;
  Backend* backend = repo->backend();
  trace::Span step = trace ? trace->StartChild("list files") : trace::Span();
  // The old index files first: any listed later would be new, and kept.
  ASSIGN_OR_RETURN(auto old_index, backend->List(FileType::kIndex));
  ASSIGN_OR_RETURN(auto pack_names, backend->List(FileType::kPack));

  step = trace ? trace->StartChild("read pack headers") : trace::Span();
  std::vector<IndexedPack> packs(pack_names.size());
  std::vector<bool> read(pack_names.size(), false);
  std::mutex mu;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < pack_names.size();) {
      const std::string& name = pack_names[i];
      auto id = Id::FromHex(name);
      auto header = id ? LoadPackHeader(backend, name, repo->master_key())
                       : Result<std::vector<PackEntry>>(Status::Corruption("its name is not a pack id"));
      if (!header.ok()) {
        std::lock_guard lock(mu);
        stats.unreadable.push_back("pack " + name.substr(0, 8) + ": " + header.status().message());
        continue;
      }
      packs[i] = {*id, std::move(*header)};
      read[i] = true;
    }
  };
  std::vector<std::thread> threads;
  const unsigned n = std::clamp(std::thread::hardware_concurrency() * 2, 2u, 16u);
  for (unsigned i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  std::vector<IndexedPack> good;
  for (size_t i = 0; i < packs.size(); ++i)
    if (read[i]) {
      stats.blobs += packs[i].entries.size();
      good.push_back(std::move(packs[i]));
    }
  stats.packs = good.size();
  std::sort(stats.unreadable.begin(), stats.unreadable.end());

  step = trace ? trace->StartChild("write index") : trace::Span();
  ASSIGN_OR_RETURN(auto written, repo->WriteIndexFiles(good));
  stats.index_files_written = written.size();

  step = trace ? trace->StartChild("remove old index files") : trace::Span();
  for (const auto& name : old_index) {
    if (std::find(written.begin(), written.end(), name) != written.end()) continue;  // the same content again
    Status s = backend->Remove(FileType::kIndex, name);
    if (!s.ok() && s.code() != ErrorCode::kNotFound) return s;
    ++stats.index_files_removed;
  }
  return stats;
}

}  // namespace backspan
