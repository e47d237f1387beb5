#include "checker/checker.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "repository/object_aad.h"
#include "trace/semconv.h"
#include "trace/tracer.h"
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

// One run of the checker: its phases share what the first one learns.
class CheckRun {
 public:
  CheckRun(Repository* repo, const CheckOptions& opts, CheckProgress* progress)
      : repo_(repo), backend_(repo->backend()), opts_(opts), progress_(progress) {}

  Result<CheckResult> Run() {
    static const trace::Span kUntraced;
    const trace::Span& job = opts_.trace ? *opts_.trace : kUntraced;
    RETURN_IF_ERROR(Phase(job, "check packs", [&](trace::Span&) { return CheckPacks(); }));
    if (opts_.read_data) {
      RETURN_IF_ERROR(Phase(job, "read data", [&](trace::Span& span) {
        Status st = ReadData();
        span.SetAttribute(semconv::kCheckPacksRead, result_.packs_read);
        return st;
      }));
      RETURN_IF_ERROR(Phase(job, "check file names", [&](trace::Span&) { return CheckFileNames(); }));
    }
    RETURN_IF_ERROR(Phase(job, "check snapshots", [&](trace::Span&) { return CheckSnapshots(); }));
    return std::move(result_);
  }

 private:
  // Runs one phase in a child span of `job`; the problems it finds become
  // events on it (the first 100 of the check).
  template <typename Fn>
  Status Phase(const trace::Span& job, std::string_view name, Fn&& fn) {
    const size_t before = result_.errors.size();
    Status st = trace::InChildSpan(job, name, [&](trace::Span& span) {
      Status phase = fn(span);
      for (size_t i = before; i < result_.errors.size() && i < 100; ++i)
        span.AddEvent(semconv::kCheckErrorEvent, {{semconv::kMessage, result_.errors[i]}});
      return phase;
    });
    if (st.ok() && InterruptRequested()) return InterruptedStatus("the check");
    return st;
  }

  // 1. Indexed packs must exist and be long enough for their blobs.
  Status CheckPacks();
  // 2. Hash every pack, authenticate and rehash every blob (a share of the
  //    packs with read_data_percent).
  Status ReadData();
  // Reads and verifies one pack.
  void ReadPack(const PackId& pid);
  // 3. Index, snapshot and key files are named by the SHA-256 of their
  //    bytes: a mismatch is damage, even in a file no one reads now.
  Status CheckFileNames();
  // 4. Every snapshot's trees and blobs; name what the damage affects.
  Status CheckSnapshots();

  Repository* repo_;
  Backend* backend_;
  const CheckOptions& opts_;
  CheckProgress* progress_;
  CheckResult result_;
  std::map<PackId, std::vector<PackEntry>> by_pack_;
  std::vector<PackId> readable_;
  std::unordered_map<BlobId, std::string, IdHash> bad_blobs_;
  std::mutex mu_;  // result_ and bad_blobs_ while packs are read
  std::atomic<uint64_t> blobs_{0};
};

Status CheckRun::CheckPacks() {
  ASSIGN_OR_RETURN(auto stored_sizes, backend_->ListSizes(FileType::kPack));
  std::map<std::string, uint64_t> stored_set(stored_sizes.begin(), stored_sizes.end());
  std::vector<IndexedPack> indexed;
  std::vector<std::string> damaged;
  RETURN_IF_ERROR(repo_->LoadIndex(&indexed, nullptr, &damaged));
  result_.errors.insert(result_.errors.end(), damaged.begin(), damaged.end());
  for (auto& p : indexed) {
    auto& v = by_pack_[p.id];
    v.insert(v.end(), p.entries.begin(), p.entries.end());
  }
  result_.packs = by_pack_.size();
  for (const auto& [pid, entries] : by_pack_) {
    if (!stored_set.count(pid.Hex())) {
      result_.errors.push_back("pack " + pid.ShortHex() + " is in the index but missing from the repository");
      for (const auto& e : entries) bad_blobs_[e.id] = "its pack " + pid.ShortHex() + " is missing";
      continue;
    }
    uint64_t need = 0;
    for (const auto& e : entries) need = std::max<uint64_t>(need, uint64_t{e.offset} + e.length);
    if (stored_set.at(pid.Hex()) < need + 4) {
      result_.errors.push_back("pack " + pid.ShortHex() + " is truncated");
      for (const auto& e : entries) bad_blobs_[e.id] = "its pack " + pid.ShortHex() + " is truncated";
      continue;
    }
    readable_.push_back(pid);
  }
  for (const auto& [name, size] : stored_sizes) {
    auto id = Id::FromHex(name);
    if (!id || !by_pack_.count(*id))
      result_.notices.push_back("pack " + name.substr(0, 8) + " is not in any index " +
                                (damaged.empty() ? "(left by an interrupted backup; harmless)"
                                                 : "(a damaged index file may list it: run 'backspan repair index')"));
  }
  ASSIGN_OR_RETURN(auto leftovers, backend_->ListLeftovers());
  if (!leftovers.empty()) {
    uint64_t bytes = 0;
    for (const auto& l : leftovers) bytes += l.size;
    result_.notices.push_back(std::to_string(leftovers.size()) + " temporary files (" + std::to_string(bytes) +
                              " bytes) left by interrupted writers, e.g. " + leftovers[0].name +
                              "; prune removes those not written for 30 minutes");
  }
  return Status::Ok();
}

Status CheckRun::ReadData() {
  std::vector<PackId> to_read = readable_;
  if (opts_.read_data_percent < 100) {
    std::mt19937_64 rng{std::random_device{}()};
    std::shuffle(to_read.begin(), to_read.end(), rng);
    size_t n = static_cast<size_t>(to_read.size() * opts_.read_data_percent / 100.0 + 0.999999);
    to_read.resize(std::min(n, to_read.size()));
  }
  progress_->packs_total = to_read.size();
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; !InterruptRequested() && (i = next++) < to_read.size();) ReadPack(to_read[i]);
  };
  std::vector<std::thread> threads;
  unsigned n = std::max({1u, std::thread::hardware_concurrency(), static_cast<unsigned>(backend_->ReadConcurrency())});
  for (unsigned i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  result_.blobs_read = blobs_;
  return Status::Ok();
}

void CheckRun::ReadPack(const PackId& pid) {
  std::vector<std::string> errs;
  std::vector<std::pair<BlobId, std::string>> bad;
  auto data = backend_->Load(FileType::kPack, pid.Hex());
  bool hash_matches = data.ok() && PackId{crypto::Sha256(*data)} == pid;
  // A pack that does not hash to its name is read once more before it is
  // called damaged: the first read may have been cut short.
  if (data.ok() && !hash_matches) {
    data = backend_->Load(FileType::kPack, pid.Hex());
    hash_matches = data.ok() && PackId{crypto::Sha256(*data)} == pid;
  }
  if (!data.ok()) {
    errs.push_back("pack " + pid.ShortHex() + ": " + data.status().message());
    for (const auto& e : by_pack_.at(pid)) bad.push_back({e.id, "its pack could not be read"});
  } else {
    if (!hash_matches) errs.push_back("pack " + pid.ShortHex() + " is damaged: its content does not match its name");
    auto header = ReadPackHeader(*data, repo_->master_key());
    if (!header.ok()) errs.push_back("pack " + pid.ShortHex() + " has a damaged header: " + header.status().message());
    for (const auto& e : by_pack_.at(pid)) {
      ++blobs_;
      std::string problem;
      if (uint64_t{e.offset} + e.length > data->size()) {
        problem = "lies beyond the end of its pack";
      } else {
        auto plain = crypto::Open(repo_->master_key().encryption, ByteView(data->data() + e.offset, e.length),
                                  aad::Blob(e.type, e.id));
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
  std::lock_guard lock(mu_);
  result_.errors.insert(result_.errors.end(), errs.begin(), errs.end());
  for (auto& [id, msg] : bad) bad_blobs_[id] = msg;
  ++result_.packs_read;
  ++progress_->packs_done;
}

Status CheckRun::CheckFileNames() {
  for (FileType type : {FileType::kIndex, FileType::kSnapshot, FileType::kKey}) {
    ASSIGN_OR_RETURN(auto names, backend_->List(type));
    for (const auto& name : names) {
      auto data = backend_->Load(type, name);
      std::string what = std::string(FileTypeDir(type)) + "/" + name.substr(0, 8);
      if (!data.ok()) result_.errors.push_back(what + ": " + data.status().message());
      else if (HexEncode(crypto::Sha256(*data)) != name)
        result_.errors.push_back(what + " is damaged: its content does not match its name");
    }
  }
  return Status::Ok();
}

Status CheckRun::CheckSnapshots() {
  ASSIGN_OR_RETURN(auto snapshot_names, backend_->List(FileType::kSnapshot));
  std::vector<Snapshot> snapshots;
  for (const auto& name : snapshot_names) {
    auto snap = repo_->LoadSnapshot(name);
    if (snap.ok()) snapshots.push_back(std::move(*snap));
    else result_.errors.push_back("snapshot " + name.substr(0, 8) + " is damaged: " + snap.status().message());
  }
  result_.snapshots = snapshot_names.size();
  TreeWalker walker(repo_, &bad_blobs_);
  for (const auto& snap : snapshots) {
    if (InterruptRequested()) return InterruptedStatus("the check");
    for (const auto& d : walker.Walk(snap.tree)) {
      std::string path = "/" + d.path;
      result_.affected.push_back({snap.id, path, d.problem});
      result_.errors.push_back("snapshot " + snap.id.substr(0, 8) + ": " + path + ": " + d.problem);
    }
  }
  result_.trees = walker.trees();
  return Status::Ok();
}

}  // namespace

Result<CheckResult> Checker::Run() { return CheckRun(repo_, opts_, &progress_).Run(); }

}  // namespace backspan
