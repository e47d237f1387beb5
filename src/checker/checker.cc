#include "checker/checker.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "repository/object_aad.h"
#include "util/hex.h"
#include "util/interrupt.h"

namespace backspan {
namespace {

struct DamageEntry {
  std::string path;  // relative to the tree it was found in
  std::string problem;
};

class TreeWalker {
 public:
  TreeWalker(Repository* repo, const std::unordered_map<BlobId, std::string, IdHash>* bad_blobs)
      : repo_(repo), bad_(bad_blobs) {}

  // Damage below a tree, memoised so shared subtrees are walked once.
  const std::vector<DamageEntry>& Walk(const BlobId& tree_id) {
    if (auto it = memo_.find(tree_id); it != memo_.end()) return it->second;
    static const std::vector<DamageEntry> kNone;
    if (InterruptRequested()) return kNone;  // Run sees the request and stops
    std::vector<DamageEntry> damage;
    auto tree = repo_->LoadTree(tree_id);
    ++trees_;
    if (!tree.ok()) {
      damage.push_back({"", "directory unreadable: " + tree.status().message()});
    } else {
      for (const auto& n : tree->nodes) {
        if (n.kind == FileKind::kDir) {
          for (const auto& d : Walk(n.subtree))
            damage.push_back({d.path.empty() ? n.name : n.name + "/" + d.path, d.problem});
        } else if (n.kind == FileKind::kFile) {
          for (const auto& id : n.content) {
            std::string problem;
            if (auto it = bad_->find(id); it != bad_->end()) problem = it->second;
            else if (!repo_->index().Has(id)) problem = "blob " + id.ShortHex() + " is missing from the index";
            if (!problem.empty()) {
              damage.push_back({n.name, problem});
              break;
            }
          }
        }
      }
    }
    return memo_.emplace(tree_id, std::move(damage)).first->second;
  }

  uint64_t trees() const { return trees_; }

 private:
  Repository* repo_;
  const std::unordered_map<BlobId, std::string, IdHash>* bad_;
  std::unordered_map<BlobId, std::vector<DamageEntry>, IdHash> memo_;
  uint64_t trees_ = 0;
};

}  // namespace

Result<CheckResult> Checker::Run() {
  CheckResult result;
  Backend* backend = repo_->backend();

  // 1. Indexed packs must exist and be long enough for their blobs.
  ASSIGN_OR_RETURN(auto stored_sizes, backend->ListSizes(FileType::kPack));
  std::map<std::string, uint64_t> stored_set(stored_sizes.begin(), stored_sizes.end());
  std::vector<std::string> stored;
  for (const auto& [name, size] : stored_sizes) stored.push_back(name);
  std::vector<IndexedPack> indexed;
  std::vector<std::string> damaged;
  RETURN_IF_ERROR(repo_->LoadIndex(&indexed, nullptr, &damaged));
  result.errors.insert(result.errors.end(), damaged.begin(), damaged.end());
  std::map<PackId, std::vector<PackEntry>> by_pack;
  for (auto& p : indexed) {
    auto& v = by_pack[p.id];
    v.insert(v.end(), p.entries.begin(), p.entries.end());
  }
  result.packs = by_pack.size();
  std::unordered_map<BlobId, std::string, IdHash> bad_blobs;
  std::vector<PackId> readable;
  for (const auto& [pid, entries] : by_pack) {
    std::string hex = pid.Hex();
    if (!stored_set.count(hex)) {
      result.errors.push_back("pack " + pid.ShortHex() + " is in the index but missing from the repository");
      for (const auto& e : entries) bad_blobs[e.id] = "its pack " + pid.ShortHex() + " is missing";
      continue;
    }
    uint64_t need = 0;
    for (const auto& e : entries) need = std::max<uint64_t>(need, uint64_t{e.offset} + e.length);
    if (stored_set.at(hex) < need + 4) {
      result.errors.push_back("pack " + pid.ShortHex() + " is truncated");
      for (const auto& e : entries) bad_blobs[e.id] = "its pack " + pid.ShortHex() + " is truncated";
      continue;
    }
    readable.push_back(pid);
  }
  for (const auto& name : stored) {
    auto id = Id::FromHex(name);
    if (!id || !by_pack.count(*id))
      result.notices.push_back("pack " + name.substr(0, 8) + " is not in any index " +
                               (damaged.empty() ? "(left by an interrupted backup; harmless)"
                                                : "(a damaged index file may list it: run 'backspan repair index')"));
  }
  ASSIGN_OR_RETURN(auto leftovers, backend->ListLeftovers());
  if (!leftovers.empty()) {
    uint64_t bytes = 0;
    for (const auto& l : leftovers) bytes += l.size;
    result.notices.push_back(std::to_string(leftovers.size()) + " temporary files (" + std::to_string(bytes) +
                             " bytes) left by interrupted writers, e.g. " + leftovers[0].name +
                             "; prune removes those not written for 30 minutes");
  }

  // 2. Optionally read data: hash every pack, authenticate and rehash every blob.
  if (opts_.read_data) {
    std::vector<PackId> to_read = readable;
    if (opts_.read_data_percent < 100) {
      std::mt19937_64 rng{std::random_device{}()};
      std::shuffle(to_read.begin(), to_read.end(), rng);
      size_t n = static_cast<size_t>(to_read.size() * opts_.read_data_percent / 100.0 + 0.999999);
      to_read.resize(std::min(n, to_read.size()));
    }
    progress_.packs_total = to_read.size();
    std::mutex mu;
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> blobs{0};
    auto worker = [&] {
      for (size_t i; !InterruptRequested() && (i = next++) < to_read.size();) {
        const PackId& pid = to_read[i];
        std::vector<std::string> errs;
        std::vector<std::pair<BlobId, std::string>> bad;
        auto data = backend->Load(FileType::kPack, pid.Hex());
        bool hash_matches = data.ok() && PackId{crypto::Sha256(*data)} == pid;
        // A pack that does not hash to its name is read once more before
        // it is called damaged: the first read may have been cut short.
        if (data.ok() && !hash_matches) {
          data = backend->Load(FileType::kPack, pid.Hex());
          hash_matches = data.ok() && PackId{crypto::Sha256(*data)} == pid;
        }
        if (!data.ok()) {
          errs.push_back("pack " + pid.ShortHex() + ": " + data.status().message());
          for (const auto& e : by_pack.at(pid)) bad.push_back({e.id, "its pack could not be read"});
        } else {
          if (!hash_matches)
            errs.push_back("pack " + pid.ShortHex() + " is damaged: its content does not match its name");
          auto header = ReadPackHeader(*data, repo_->master_key());
          if (!header.ok())
            errs.push_back("pack " + pid.ShortHex() + " has a damaged header: " + header.status().message());
          for (const auto& e : by_pack.at(pid)) {
            ++blobs;
            std::string problem;
            if (uint64_t{e.offset} + e.length > data->size()) {
              problem = "lies beyond the end of its pack";
            } else {
              auto plain = crypto::Open(repo_->master_key().encryption,
                                        ByteView(data->data() + e.offset, e.length), aad::Blob(e.type, e.id));
              if (!plain.ok()) {
                problem = plain.status().message();
              } else {
                Result<Bytes> raw = e.compressed ? DecompressBlob(*plain, e.raw_length) : Result<Bytes>(std::move(*plain));
                if (!raw.ok()) problem = raw.status().message();
                else if (repo_->HashBlob(*raw) != e.id) problem = "content does not match its id";
              }
            }
            if (!problem.empty()) {
              errs.push_back("pack " + pid.ShortHex() + ": blob " + e.id.ShortHex() + " is damaged: " + problem);
              bad.push_back({e.id, "blob " + e.id.ShortHex() + " in pack " + pid.ShortHex() + " is damaged"});
            }
          }
        }
        std::lock_guard lock(mu);
        result.errors.insert(result.errors.end(), errs.begin(), errs.end());
        for (auto& [id, msg] : bad) bad_blobs[id] = msg;
        ++result.packs_read;
        ++progress_.packs_done;
      }
    };
    std::vector<std::thread> threads;
    unsigned n = std::max({1u, std::thread::hardware_concurrency(), static_cast<unsigned>(backend->ReadConcurrency())});
    for (unsigned i = 0; i < n; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    result.blobs_read = blobs;
    if (InterruptRequested()) return InterruptedStatus("the check");
  }

  // 3. Index, snapshot and key files are named by the SHA-256 of their
  //    bytes: a mismatch is damage, even in a file no one reads now.
  if (opts_.read_data) {
    for (FileType type : {FileType::kIndex, FileType::kSnapshot, FileType::kKey}) {
      ASSIGN_OR_RETURN(auto names, backend->List(type));
      for (const auto& name : names) {
        auto data = backend->Load(type, name);
        std::string what = std::string(FileTypeDir(type)) + "/" + name.substr(0, 8);
        if (!data.ok()) result.errors.push_back(what + ": " + data.status().message());
        else if (HexEncode(crypto::Sha256(*data)) != name)
          result.errors.push_back(what + " is damaged: its content does not match its name");
      }
    }
  }

  // 4. Every snapshot's trees and blobs; name what the damage affects.
  ASSIGN_OR_RETURN(auto snapshot_names, backend->List(FileType::kSnapshot));
  std::vector<Snapshot> snapshots;
  for (const auto& name : snapshot_names) {
    auto snap = repo_->LoadSnapshot(name);
    if (snap.ok()) snapshots.push_back(std::move(*snap));
    else result.errors.push_back("snapshot " + name.substr(0, 8) + " is damaged: " + snap.status().message());
  }
  result.snapshots = snapshot_names.size();
  TreeWalker walker(repo_, &bad_blobs);
  for (const auto& snap : snapshots) {
    if (InterruptRequested()) return InterruptedStatus("the check");
    for (const auto& d : walker.Walk(snap.tree)) {
      std::string path = "/" + d.path;
      result.affected.push_back({snap.id, path, d.problem});
      result.errors.push_back("snapshot " + snap.id.substr(0, 8) + ": " + path + ": " + d.problem);
    }
  }
  result.trees = walker.trees();
  if (InterruptRequested()) return InterruptedStatus("the check");
  return result;
}

}  // namespace backspan
