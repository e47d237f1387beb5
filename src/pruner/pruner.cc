#include "pruner/pruner.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "repository/deletion_mark.h"
#include "repository/lock.h"
#include "util/interrupt.h"

namespace backspan {
namespace {

using BlobSet = std::unordered_set<BlobId, IdHash>;

// Adds every blob reachable from `snapshots` to `used`. Fails if a tree is
// unreadable or a blob is not indexed: then what is unused cannot be known.
Status CollectUsed(Repository* repo, const std::vector<Snapshot>& snapshots, BlobSet* used) {
  std::vector<std::pair<BlobId, std::string>> todo;  // tree, snapshot it came from
  for (const auto& s : snapshots) todo.push_back({s.tree, s.id});
  uint64_t missing = 0;
  std::string example;
  while (!todo.empty()) {
    if (InterruptRequested()) return InterruptedStatus("the prune");
    auto [tree_id, snap] = todo.back();
    todo.pop_back();
    if (!used->insert(tree_id).second) continue;
    if (!repo->index().Has(tree_id))
      return Status::Corruption("tree " + tree_id.ShortHex() + " of snapshot " + snap.substr(0, 8) +
                                " is missing; run 'backspan check' before pruning");
    ASSIGN_OR_RETURN(Tree tree, repo->LoadTree(tree_id));
    for (const auto& n : tree.nodes) {
      if (n.kind == FileKind::kDir) {
        todo.push_back({n.subtree, snap});
      } else if (n.kind == FileKind::kFile) {
        for (const auto& id : n.content) {
          if (!used->insert(id).second) continue;
          if (!repo->index().Has(id)) {
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

Status Ignore(Status st, ErrorCode ignorable) { return st.code() == ignorable ? Status::Ok() : st; }

// Snapshots first, then the index: a snapshot is written after the index
// files for its data, so every snapshot listed has its index visible.
struct State {
  std::vector<Snapshot> snapshots;
  std::vector<IndexedPack> listed;
  std::vector<std::string> index_files;
  std::map<PackId, std::vector<PackEntry>> packs;  // from all index files
};

Result<State> LoadState(Repository* repo) {
  State st;
  ASSIGN_OR_RETURN(st.snapshots, repo->LoadAllSnapshots(/*vanished_is_error=*/true));
  repo->index().Clear();
  Status loaded = repo->LoadIndex(&st.listed, &st.index_files);
  if (loaded.code() == ErrorCode::kCorruption)
    return loaded.WithContext("prune needs every index file to know what is used; run 'backspan repair index' first");
  RETURN_IF_ERROR(loaded);
  for (const auto& p : st.listed) {
    auto& v = st.packs[p.id];
    v.insert(v.end(), p.entries.begin(), p.entries.end());
  }
  return st;
}

Status WriteIndexWithout(Repository* repo, const State& st, const std::set<PackId>& drop) {
  std::vector<IndexedPack> keep;
  for (const auto& [pid, entries] : st.packs)
    if (!drop.count(pid)) keep.push_back({pid, entries});
  // New files first, then removal of the old: readers always find every pack.
  RETURN_IF_ERROR(repo->WriteIndexFiles(keep).status());
  for (const auto& f : st.index_files)
    RETURN_IF_ERROR(Ignore(repo->backend()->Remove(FileType::kIndex, f), ErrorCode::kNotFound));
  return Status::Ok();
}

// Removes the leftovers of interrupted writers that no live writer can own:
// a writer refreshes its lock while it writes, so a temporary file not
// written for longer than a lock stays fresh is nobody's.
Status RemoveLeftovers(Backend* backend, int64_t now_ns, bool dry_run, PruneStats* stats) {
  ASSIGN_OR_RETURN(auto leftovers, backend->ListLeftovers());
  for (const auto& l : leftovers) {
    if (now_ns - l.mtime_ns < kLockStaleAfter) {
      ++stats->leftovers_kept;
      continue;
    }
    if (!dry_run) RETURN_IF_ERROR(Ignore(backend->RemoveLeftover(l.name), ErrorCode::kNotFound));
    ++stats->leftovers_removed;
    stats->leftover_bytes_removed += l.size;
  }
  return Status::Ok();
}

}  // namespace

Result<PruneStats> Pruner::Run() {
  PruneStats stats;
  Backend* backend = repo_->backend();
  Env* env = repo_->env();
  auto live_jobs = [&]() -> Result<std::set<std::string>> {
    ASSIGN_OR_RETURN(auto locks, ListLocks(repo_));
    int64_t now = env->NowUnixNanos();
    std::set<std::string> jobs;
    for (const auto& l : locks)
      if (l.job != opts_.own_job && !IsStale(l, now, opts_.hostname)) jobs.insert(l.job);
    return jobs;
  };

  // Each numbered step is a span; assigning the next one ends the last.
  trace::Span step;
  auto begin_step = [&](const char* name) -> Status {
    step = opts_.trace ? opts_.trace->StartChild(name) : trace::Span();
    return InterruptRequested() ? InterruptedStatus("the prune") : Status::Ok();
  };

  // 1. What the snapshots use, the marks already made, the packs stored.
  RETURN_IF_ERROR(begin_step("analyze usage"));
  ASSIGN_OR_RETURN(State st, LoadState(repo_));
  stats.snapshots = st.snapshots.size();
  BlobSet used;
  RETURN_IF_ERROR(CollectUsed(repo_, st.snapshots, &used));
  ASSIGN_OR_RETURN(auto mark_names, backend->List(FileType::kDeletion));
  std::vector<DeletionMark> marks;
  marks.reserve(mark_names.size() + 1);
  std::set<PackId> marked;
  for (const auto& name : mark_names) {
    auto plain = repo_->LoadSealed(FileType::kDeletion, name);
    auto mark = plain.ok() ? DecodeDeletionMark(*plain) : Result<DeletionMark>(plain.status());
    if (!mark.ok()) {  // its packs stay; a later prune marks them again
      stats.notices.push_back("deletion mark " + name.substr(0, 8) + " is unreadable and was removed: " +
                              mark.status().message());
      if (!opts_.dry_run) RETURN_IF_ERROR(Ignore(backend->Remove(FileType::kDeletion, name), ErrorCode::kNotFound));
      continue;
    }
    mark->name = name;
    for (const auto& p : mark->packs) marked.insert(p.id);
    for (const auto& p : mark->strays) marked.insert(p.id);
    marks.push_back(std::move(*mark));
  }
  ASSIGN_OR_RETURN(auto stored_names, backend->List(FileType::kPack));
  std::set<PackId> stored;
  for (const auto& n : stored_names)
    if (auto id = Id::FromHex(n)) stored.insert(*id);

  // 2. Classify the unmarked indexed packs. A blob stored in several packs
  //    counts as used in one, preferring packs not marked already.
  std::unordered_map<BlobId, PackId, IdHash> home;
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& [pid, entries] : st.packs)
      if ((pass == 0) != static_cast<bool>(marked.count(pid)))
        for (const auto& e : entries) home.try_emplace(e.id, pid);
  struct Usage {
    uint64_t used = 0, unused = 0;
  };
  std::map<PackId, Usage> usage;
  std::vector<PackId> unused, partly;
  for (const auto& [pid, entries] : st.packs) {
    if (marked.count(pid)) continue;
    if (!stored.count(pid))
      return Status::Corruption("pack " + pid.ShortHex() +
                                " is in the index but missing; run 'backspan check' before pruning");
    Usage& u = usage[pid];
    std::set<BlobId> seen;
    for (const auto& e : entries) {
      if (!seen.insert(e.id).second) continue;
      (used.count(e.id) && home[e.id] == pid ? u.used : u.unused) += e.length;
    }
    stats.bytes_used += u.used;
    stats.bytes_unused += u.unused;
    if (u.used == 0) unused.push_back(pid);
    else if (u.unused > 0) partly.push_back(pid);
  }
  stats.packs = st.packs.size();
  stats.packs_unused = unused.size();
  stats.packs_partly_used = partly.size();
  stats.packs_used = usage.size() - unused.size() - partly.size();
  std::vector<PackId> strays;
  for (const auto& pid : stored)
    if (!st.packs.count(pid) && !marked.count(pid)) strays.push_back(pid);
  stats.packs_unindexed = strays.size();

  // Repack the packs with the most unused data until what stays unused is
  // within --max-unused of the repository.
  std::sort(partly.begin(), partly.end(), [&](const PackId& a, const PackId& b) {
    const Usage &ua = usage[a], &ub = usage[b];
    return ua.unused * (ub.used + ub.unused) > ub.unused * (ua.used + ua.unused);
  });
  uint64_t unused_left = 0;
  for (const auto& p : partly) unused_left += usage[p].unused;
  double pct = opts_.max_unused_percent;
  double limit = pct < 0 || pct >= 100 ? 1e300 : stats.bytes_used * pct / (100 - pct);
  std::vector<PackId> repack;
  for (const auto& p : partly) {
    if (static_cast<double>(unused_left) <= limit) break;
    repack.push_back(p);
    unused_left -= usage[p].unused;
  }
  stats.packs_repacked = repack.size();
  stats.packs_marked = unused.size() + repack.size() + strays.size();
  RETURN_IF_ERROR(begin_step("remove leftovers"));
  RETURN_IF_ERROR(RemoveLeftovers(backend, env->NowUnixNanos(), opts_.dry_run, &stats));
  if (opts_.dry_run) return stats;

  RETURN_IF_ERROR(begin_step("repack"));
  // 3. Copy the used blobs out of the packs to repack; their new packs are
  //    indexed before anything is marked.
  for (const auto& pid : repack) {
    std::set<BlobId> seen;
    for (const auto& e : st.packs[pid]) {
      if (!used.count(e.id) || home[e.id] != pid || !seen.insert(e.id).second) continue;
      if (InterruptRequested()) return InterruptedStatus("the prune");
      RETURN_IF_ERROR(repo_->RepackBlob(e.id, BlobLocation{pid, e}));
      ++stats.blobs_repacked;
      stats.bytes_repacked += e.length;
    }
  }
  RETURN_IF_ERROR(repo_->Flush());

  RETURN_IF_ERROR(begin_step("mark packs"));
  // 4. Mark what goes, with the jobs running now. From here on, backups
  //    that start do not use these packs.
  DeletionMark fresh;
  for (const auto* list : {&unused, &repack})
    for (const auto& pid : *list) fresh.packs.push_back({pid, st.packs[pid]});
  for (const auto& pid : strays) {
    IndexedPack p{pid, {}};
    if (auto header = LoadPackHeader(backend, pid.Hex(), repo_->master_key()); header.ok()) p.entries = std::move(*header);
    fresh.strays.push_back(std::move(p));
  }
  if (!fresh.packs.empty() || !fresh.strays.empty()) {
    ASSIGN_OR_RETURN(auto jobs, live_jobs());
    fresh.jobs.assign(jobs.begin(), jobs.end());
    fresh.time_ns = env->NowUnixNanos();
    ASSIGN_OR_RETURN(fresh.name, repo_->SaveSealed(FileType::kDeletion, EncodeDeletionMark(fresh)));
    marks.push_back(fresh);
    if (fresh.jobs.empty() && !SleepUnlessInterrupted(opts_.grace_ns)) return InterruptedStatus("the prune");
  }

  RETURN_IF_ERROR(begin_step("delete packs"));
  // 5. Phase two for every ripe mark: its jobs are gone and the grace delay
  //    has passed. Snapshots those jobs wrote may still need a marked pack:
  //    the state is read again, and such packs stay.
  ASSIGN_OR_RETURN(auto jobs_now, live_jobs());
  int64_t now = env->NowUnixNanos();
  std::vector<const DeletionMark*> ripe;
  for (const auto& m : marks) {
    bool waiting = false;
    for (const auto& j : m.jobs)
      if (jobs_now.count(j)) {
        waiting = true;
        stats.waiting_for.push_back(j);
      }
    if (!waiting && now - m.time_ns >= opts_.grace_ns) ripe.push_back(&m);
    else ++stats.marks_pending;
  }
  if (ripe.empty()) return stats;

  ASSIGN_OR_RETURN(State st2, LoadState(repo_));
  std::set<std::string> seen_snapshots;
  for (const auto& s : st.snapshots) seen_snapshots.insert(s.id);
  std::vector<Snapshot> added;
  for (const auto& s : st2.snapshots)
    if (!seen_snapshots.count(s.id)) added.push_back(s);
  BlobSet used2 = used;
  RETURN_IF_ERROR(CollectUsed(repo_, added, &used2));

  std::set<PackId> doomed;
  for (const DeletionMark* m : ripe) {
    for (const auto& p : m->packs) doomed.insert(p.id);
    for (const auto& p : m->strays)
      if (!st2.packs.count(p.id)) doomed.insert(p.id);  // a running backup's pack, indexed since, stays
  }
  // A used blob whose every copy is doomed keeps one of its packs.
  std::unordered_map<BlobId, std::vector<PackId>, IdHash> copies;
  for (const auto& [pid, entries] : st2.packs)
    for (const auto& e : entries) copies[e.id].push_back(pid);
  for (const auto& [blob, where] : copies) {
    if (!used2.count(blob)) continue;
    if (std::all_of(where.begin(), where.end(), [&](const PackId& p) { return doomed.count(p); })) {
      stats.packs_resurrected += doomed.erase(where.front());
    }
  }
  std::set<PackId> indexed_doomed;
  for (const auto& pid : doomed)
    if (st2.packs.count(pid)) indexed_doomed.insert(pid);
  if (!indexed_doomed.empty()) RETURN_IF_ERROR(WriteIndexWithout(repo_, st2, indexed_doomed));
  for (const auto& pid : doomed) {
    RETURN_IF_ERROR(Ignore(backend->Remove(FileType::kPack, pid.Hex()), ErrorCode::kNotFound));
    ++stats.packs_deleted;
  }
  for (const DeletionMark* m : ripe)
    RETURN_IF_ERROR(Ignore(backend->Remove(FileType::kDeletion, m->name), ErrorCode::kNotFound));
  return stats;
}

}  // namespace backspan
