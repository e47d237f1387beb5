#include "pruner/pruner.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "pruner/deletion_mark.h"
#include "repository/lock.h"

namespace backspan {
namespace {

using BlobSet = std::unordered_set<BlobId, IdHash>;
using LocationMap = std::unordered_map<BlobId, BlobLocation, IdHash>;
constexpr size_t kPacksPerIndexFile = 4096;

// Finds blobs in the index, else in marked packs (a snapshot written by a
// job that began before a mark may use them).
class BlobFinder {
 public:
  BlobFinder(Repository* repo, const LocationMap* marked) : repo_(repo), marked_(marked) {}
  std::optional<BlobLocation> Find(const BlobId& id) const {
    if (auto loc = repo_->index().Lookup(id)) return loc;
    if (auto it = marked_->find(id); it != marked_->end()) return it->second;
    return std::nullopt;
  }

 private:
  Repository* repo_;
  const LocationMap* marked_;
};

// Adds every blob reachable from `snapshots` to `used`. Fails if a tree is
// unreadable or a blob is nowhere: then what is unused cannot be known.
Status CollectUsed(Repository* repo, const BlobFinder& finder, const std::vector<Snapshot>& snapshots,
                   BlobSet* used) {
  std::vector<std::pair<BlobId, std::string>> todo;  // tree, snapshot it came from
  for (const auto& s : snapshots) todo.push_back({s.tree, s.id});
  uint64_t missing = 0;
  std::string example;
  while (!todo.empty()) {
    auto [tree_id, snap] = todo.back();
    todo.pop_back();
    if (!used->insert(tree_id).second) continue;
    auto loc = finder.Find(tree_id);
    if (!loc)
      return Status::Corruption("tree " + tree_id.ShortHex() + " of snapshot " + snap.substr(0, 8) +
                                " is missing; run 'backspan check' before pruning");
    ASSIGN_OR_RETURN(Tree tree, repo->LoadTreeAt(tree_id, *loc));
    for (const auto& n : tree.nodes) {
      if (n.kind == FileKind::kDir) {
        todo.push_back({n.subtree, snap});
      } else if (n.kind == FileKind::kFile) {
        for (const auto& id : n.content) {
          if (!used->insert(id).second) continue;
          if (!finder.Find(id)) {
            ++missing;
            if (example.empty()) example = n.name + " in snapshot " + snap.substr(0, 8);
          }
        }
      }
    }
  }
  if (missing > 0)
    return Status::Corruption(std::to_string(missing) + " blobs referenced by snapshots are missing (e.g. " +
                              example + "); prune removes nothing until 'backspan check' is clean");
  return Status::Ok();
}

Status Ignore(Status st, ErrorCode ignorable) {
  return st.code() == ignorable ? Status::Ok() : st;
}

}  // namespace

Result<PruneStats> Pruner::Run() {
  PruneStats stats;
  Backend* backend = repo_->backend();
  Env* env = repo_->env();

  // 1. The index, the marks and the jobs that are running.
  std::vector<IndexedPack> listed;
  std::vector<std::string> index_files;
  RETURN_IF_ERROR(repo_->LoadIndex(&listed, &index_files));
  ASSIGN_OR_RETURN(auto mark_names, backend->List(FileType::kDeletion));
  std::vector<DeletionMark> marks;
  for (const auto& name : mark_names) {
    auto plain = repo_->LoadSealed(FileType::kDeletion, name);
    auto mark = plain.ok() ? DecodeDeletionMark(*plain) : Result<DeletionMark>(plain.status());
    if (!mark.ok()) {  // its packs stay; a later prune finds them unindexed
      stats.notices.push_back("deletion mark " + name.substr(0, 8) + " is unreadable and was removed: " +
                              mark.status().message());
      if (!opts_.dry_run) RETURN_IF_ERROR(Ignore(backend->Remove(FileType::kDeletion, name), ErrorCode::kNotFound));
      continue;
    }
    mark->name = name;
    marks.push_back(std::move(*mark));
  }
  marks.reserve(marks.size() + 1);  // the fresh mark; pointers into marks stay valid
  ASSIGN_OR_RETURN(auto locks, ListLocks(repo_));
  int64_t now = env->NowUnixNanos();
  std::set<std::string> live_jobs;
  for (const auto& l : locks)
    if (l.job != opts_.own_job && !IsStale(l, now, opts_.hostname)) live_jobs.insert(l.job);

  std::map<PackId, std::vector<PackEntry>> indexed;  // pack -> its blobs, from all index files
  for (auto& p : listed) {
    auto& v = indexed[p.id];
    v.insert(v.end(), p.entries.begin(), p.entries.end());
  }
  LocationMap marked_blobs;
  std::map<PackId, const IndexedPack*> marked_packs;
  for (const auto& m : marks)
    for (const auto& p : m.packs) {
      if (indexed.count(p.id)) continue;  // indexed again since (a backup's pack, or resurrected)
      marked_packs[p.id] = &p;
      for (const auto& e : p.entries) marked_blobs.try_emplace(e.id, BlobLocation{p.id, e});
    }

  // 2. What the snapshots use.
  ASSIGN_OR_RETURN(auto snapshots, repo_->LoadAllSnapshots());
  stats.snapshots = snapshots.size();
  BlobSet used;
  BlobFinder finder(repo_, &marked_blobs);
  RETURN_IF_ERROR(CollectUsed(repo_, finder, snapshots, &used));

  // 3. Marked packs that a snapshot needs come back into the index.
  auto resurrections = [&](const BlobSet& needed) {
    std::vector<IndexedPack> back;
    for (const auto& [pid, pack] : marked_packs) {
      bool needs = std::any_of(pack->entries.begin(), pack->entries.end(), [&](const PackEntry& e) {
        return needed.count(e.id) && !repo_->index().Has(e.id);
      });
      if (needs) {
        repo_->index().AddSavedPack(*pack);
        back.push_back(*pack);
      }
    }
    return back;
  };
  std::vector<IndexedPack> resurrected = resurrections(used);
  for (const auto& p : resurrected) indexed[p.id] = p.entries;

  // 4. Classify the indexed packs. A blob stored twice is used in one pack only.
  ASSIGN_OR_RETURN(auto stored_names, backend->List(FileType::kPack));
  std::set<PackId> stored;
  for (const auto& n : stored_names)
    if (auto id = Id::FromHex(n)) stored.insert(*id);
  struct Usage {
    uint64_t used = 0, unused = 0;
  };
  std::map<PackId, Usage> usage;
  std::vector<PackId> remove, partly;
  for (const auto& [pid, entries] : indexed) {
    if (!stored.count(pid))
      return Status::Corruption("pack " + pid.ShortHex() +
                                " is in the index but missing; run 'backspan check' before pruning");
    Usage& u = usage[pid];
    std::set<BlobId> seen;
    for (const auto& e : entries) {
      if (!seen.insert(e.id).second) continue;
      auto canonical = repo_->index().Lookup(e.id);
      bool is_used = used.count(e.id) && canonical && canonical->pack == pid;
      (is_used ? u.used : u.unused) += e.length;
    }
    stats.bytes_used += u.used;
    stats.bytes_unused += u.unused;
    if (u.used == 0) remove.push_back(pid);
    else if (u.unused > 0) partly.push_back(pid);
  }
  stats.packs = indexed.size();
  stats.packs_unused = remove.size();
  stats.packs_partly_used = partly.size();
  stats.packs_used = stats.packs - remove.size() - partly.size();
  std::vector<PackId> unindexed;
  for (const auto& pid : stored)
    if (!indexed.count(pid) && !marked_packs.count(pid)) unindexed.push_back(pid);
  stats.packs_unindexed = unindexed.size();

  // Repack the packs with the most unused data until what stays unused is
  // within --max-unused of the repository.
  std::sort(partly.begin(), partly.end(), [&](const PackId& a, const PackId& b) {
    const Usage &ua = usage[a], &ub = usage[b];
    return ua.unused * (ub.used + ub.unused) > ub.unused * (ua.used + ua.unused);
  });
  uint64_t unused_left = 0;
  for (const auto& p : partly) unused_left += usage[p].unused;
  double pct = opts_.max_unused_percent;
  double limit = pct < 0 ? 1e300 : pct >= 100 ? 1e300 : stats.bytes_used * pct / (100 - pct);
  std::vector<PackId> repack;
  for (const auto& p : partly) {
    if (static_cast<double>(unused_left) <= limit) break;
    repack.push_back(p);
    unused_left -= usage[p].unused;
  }
  stats.packs_repacked = repack.size();
  if (opts_.dry_run) {
    stats.packs_marked = remove.size() + repack.size() + unindexed.size();
    return stats;
  }

  // 5. Write what must stay before anything is removed: resurrected packs,
  //    then copies of the used blobs of the packs being repacked.
  if (!resurrected.empty()) {
    RETURN_IF_ERROR(repo_->SaveSealed(FileType::kIndex, EncodeIndexFile(resurrected)).status());
    stats.packs_resurrected += resurrected.size();
  }
  std::set<PackId> repack_set(repack.begin(), repack.end());
  for (const auto& pid : repack) {
    std::set<BlobId> seen;
    for (const auto& e : indexed[pid]) {
      if (!used.count(e.id) || !seen.insert(e.id).second) continue;
      auto canonical = repo_->index().Lookup(e.id);
      if (!canonical || canonical->pack != pid) continue;
      RETURN_IF_ERROR(repo_->RepackBlob(e.id, *canonical));
      ++stats.blobs_repacked;
      stats.bytes_repacked += e.length;
    }
  }
  RETURN_IF_ERROR(repo_->Flush());  // new packs, then an index file for them

  // 6. The new index: everything read, minus what goes. Written before the
  //    files it replaces are removed, so readers always find every kept pack.
  std::set<PackId> going(remove.begin(), remove.end());
  going.insert(repack.begin(), repack.end());
  std::vector<IndexedPack> keep;
  for (const auto& [pid, entries] : indexed)
    if (!going.count(pid)) keep.push_back({pid, entries});
  for (size_t i = 0; i < keep.size(); i += kPacksPerIndexFile) {
    std::vector<IndexedPack> part(keep.begin() + i, keep.begin() + std::min(keep.size(), i + kPacksPerIndexFile));
    RETURN_IF_ERROR(repo_->SaveSealed(FileType::kIndex, EncodeIndexFile(part)).status());
  }
  for (const auto& f : index_files)
    RETURN_IF_ERROR(Ignore(backend->Remove(FileType::kIndex, f), ErrorCode::kNotFound));

  // 7. Mark what goes, with the jobs that might still use it.
  DeletionMark fresh;
  for (const auto& pid : going) fresh.packs.push_back({pid, indexed[pid]});
  for (const auto& pid : unindexed) {
    IndexedPack p{pid, {}};
    if (auto data = backend->Load(FileType::kPack, pid.Hex()); data.ok())
      if (auto header = ReadPackHeader(*data, repo_->master_key()); header.ok()) p.entries = std::move(*header);
    fresh.packs.push_back(std::move(p));
  }
  if (!fresh.packs.empty()) {
    ASSIGN_OR_RETURN(auto locks_now, ListLocks(repo_));
    int64_t t = env->NowUnixNanos();
    for (const auto& l : locks_now)
      if (l.job != opts_.own_job && !IsStale(l, t, opts_.hostname)) fresh.jobs.push_back(l.job);
    fresh.time_ns = t;
    ASSIGN_OR_RETURN(fresh.name, repo_->SaveSealed(FileType::kDeletion, EncodeDeletionMark(fresh)));
    stats.packs_marked = fresh.packs.size();
    marks.push_back(fresh);
  }

  // 8. Phase two for every ripe mark: its jobs are gone and the grace delay
  //    has passed. A fresh mark with no jobs to wait for ripens here.
  bool fresh_ripe = !fresh.packs.empty() && fresh.jobs.empty();
  if (fresh_ripe) std::this_thread::sleep_for(std::chrono::nanoseconds(opts_.grace_ns));
  now = env->NowUnixNanos();
  std::vector<const DeletionMark*> ripe;
  for (const auto& m : marks) {
    bool waiting = std::any_of(m.jobs.begin(), m.jobs.end(), [&](const std::string& j) { return live_jobs.count(j); });
    if (&m == &marks.back() && fresh_ripe) waiting = false;
    if (!waiting && now - m.time_ns >= opts_.grace_ns) {
      ripe.push_back(&m);
    } else {
      ++stats.marks_pending;
      for (const auto& j : m.jobs)
        if (live_jobs.count(j)) stats.waiting_for.push_back(j);
    }
  }
  if (ripe.empty()) return stats;

  // Snapshots written since step 2 by jobs that began before a mark may use
  // marked packs: walk them, and resurrect what they need.
  ASSIGN_OR_RETURN(auto latest, repo_->LoadAllSnapshots());
  std::set<std::string> known;
  for (const auto& s : snapshots) known.insert(s.id);
  std::vector<Snapshot> added;
  for (auto& s : latest)
    if (!known.count(s.id)) added.push_back(std::move(s));
  for (const auto& p : fresh.packs) {
    if (marked_packs.count(p.id)) continue;
    marked_packs[p.id] = &p;
    for (const auto& e : p.entries) marked_blobs.try_emplace(e.id, BlobLocation{p.id, e});
  }
  BlobSet late;
  RETURN_IF_ERROR(CollectUsed(repo_, finder, added, &late));
  std::vector<IndexedPack> back = resurrections(late);
  if (!back.empty()) {
    RETURN_IF_ERROR(repo_->SaveSealed(FileType::kIndex, EncodeIndexFile(back)).status());
    stats.packs_resurrected += back.size();
  }
  // Packs indexed again by now (a backup finished and listed its pack) stay.
  repo_->index().Clear();
  RETURN_IF_ERROR(repo_->LoadIndex());
  for (const DeletionMark* m : ripe) {
    for (const auto& p : m->packs) {
      if (repo_->index().HasPack(p.id)) continue;
      RETURN_IF_ERROR(Ignore(backend->Remove(FileType::kPack, p.id.Hex()), ErrorCode::kNotFound));
      ++stats.packs_deleted;
    }
    RETURN_IF_ERROR(Ignore(backend->Remove(FileType::kDeletion, m->name), ErrorCode::kNotFound));
  }
  return stats;
}

}  // namespace backspan
