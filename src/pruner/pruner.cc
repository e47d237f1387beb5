#include "pruner/pruner.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "pruner/usage.h"
#include "repository/deletion_mark.h"
#include "repository/lock.h"
#include "util/interrupt.h"

namespace backspan {
namespace {

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

// One run of the pruner. Each step is a child span of the job's; the steps
// share what the analysis found.
class PruneRun {
 public:
  PruneRun(Repository* repo, const PruneOptions& opts)
      : repo_(repo), backend_(repo->backend()), env_(repo->env()), opts_(opts) {}

  Result<PruneStats> Run() {
    RETURN_IF_ERROR(Step("analyze usage", [&] { return AnalyzeUsage(); }));
    RETURN_IF_ERROR(Step("remove leftovers",
                         [&] { return RemoveLeftovers(backend_, env_->NowUnixNanos(), opts_.dry_run, &stats_); }));
    if (opts_.dry_run) return stats_;
    RETURN_IF_ERROR(Step("repack", [&] { return Repack(); }));
    RETURN_IF_ERROR(Step("mark packs", [&] { return MarkPacks(); }));
    RETURN_IF_ERROR(Step("delete packs", [&] { return DeleteRipePacks(); }));
    return stats_;
  }

 private:
  struct Usage {
    uint64_t used = 0, unused = 0;
  };

  template <typename Fn>
  Status Step(std::string_view name, Fn&& fn) {
    static const trace::Span kUntraced;
    if (InterruptRequested()) return InterruptedStatus("the prune");
    return trace::InChildSpan(opts_.trace ? *opts_.trace : kUntraced, name, [&](trace::Span&) { return fn(); });
  }

  // 1. What the snapshots use, the marks already made, the packs stored;
  //    then which packs go and which are repacked.
  Status AnalyzeUsage();
  Status LoadMarks();
  // 2. Classifies the unmarked indexed packs. A blob stored in several packs
  //    counts as used in one, preferring packs not marked already.
  Status Classify();
  // Repacks the packs with the most unused data until what stays unused is
  // within --max-unused of the repository.
  void ChooseRepack();
  // 3. Copies the used blobs out of the packs to repack; their new packs are
  //    indexed before anything is marked.
  Status Repack();
  // 4. Marks what goes, with the jobs running now. From here on, backups
  //    that start do not use these packs.
  Status MarkPacks();
  // 5. Phase two for every ripe mark: its jobs are gone and the grace delay
  //    has passed. Snapshots those jobs wrote may still need a marked pack:
  //    the state is read again, and such packs stay.
  Status DeleteRipePacks();
  // The jobs holding locks now, ours and stale ones aside.
  Result<std::set<std::string>> LiveJobs();

  Repository* repo_;
  Backend* backend_;
  Env* env_;
  const PruneOptions& opts_;
  PruneStats stats_;
  State state_;
  BlobSet used_;
  std::vector<DeletionMark> marks_;
  std::set<PackId> marked_, stored_;
  std::unordered_map<BlobId, PackId, IdHash> home_;
  std::map<PackId, Usage> usage_;
  std::vector<PackId> unused_, partly_, strays_, repack_;
};

Status PruneRun::AnalyzeUsage() {
  ASSIGN_OR_RETURN(state_, LoadState(repo_));
  stats_.snapshots = state_.snapshots.size();
  RETURN_IF_ERROR(CollectUsed(repo_, state_.snapshots, &used_));
  RETURN_IF_ERROR(LoadMarks());
  ASSIGN_OR_RETURN(auto stored_names, backend_->List(FileType::kPack));
  for (const auto& n : stored_names)
    if (auto id = Id::FromHex(n)) stored_.insert(*id);
  RETURN_IF_ERROR(Classify());
  ChooseRepack();
  return Status::Ok();
}

Status PruneRun::LoadMarks() {
  ASSIGN_OR_RETURN(auto mark_names, backend_->List(FileType::kDeletion));
  marks_.reserve(mark_names.size() + 1);
  for (const auto& name : mark_names) {
    auto plain = repo_->LoadSealed(FileType::kDeletion, name);
    auto mark = plain.ok() ? DecodeDeletionMark(*plain) : Result<DeletionMark>(plain.status());
    if (!mark.ok()) {  // its packs stay; a later prune marks them again
      stats_.notices.push_back("deletion mark " + name.substr(0, 8) + " is unreadable and was removed: " +
                               mark.status().message());
      if (!opts_.dry_run) RETURN_IF_ERROR(Ignore(backend_->Remove(FileType::kDeletion, name), ErrorCode::kNotFound));
      continue;
    }
    mark->name = name;
    for (const auto& p : mark->packs) marked_.insert(p.id);
    for (const auto& p : mark->strays) marked_.insert(p.id);
    marks_.push_back(std::move(*mark));
  }
  return Status::Ok();
}

Status PruneRun::Classify() {
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& [pid, entries] : state_.packs)
      if ((pass == 0) != static_cast<bool>(marked_.count(pid)))
        for (const auto& e : entries) home_.try_emplace(e.id, pid);
  for (const auto& [pid, entries] : state_.packs) {
    if (marked_.count(pid)) continue;
    if (!stored_.count(pid))
      return Status::Corruption("pack " + pid.ShortHex() +
                                " is in the index but missing; run 'backspan check' before pruning");
    Usage& u = usage_[pid];
    std::set<BlobId> seen;
    for (const auto& e : entries) {
      if (!seen.insert(e.id).second) continue;
      (used_.count(e.id) && home_[e.id] == pid ? u.used : u.unused) += e.length;
    }
    stats_.bytes_used += u.used;
    stats_.bytes_unused += u.unused;
    if (u.used == 0) unused_.push_back(pid);
    else if (u.unused > 0) partly_.push_back(pid);
  }
  stats_.packs = state_.packs.size();
  stats_.packs_unused = unused_.size();
  stats_.packs_partly_used = partly_.size();
  stats_.packs_used = usage_.size() - unused_.size() - partly_.size();
  for (const auto& pid : stored_)
    if (!state_.packs.count(pid) && !marked_.count(pid)) strays_.push_back(pid);
  stats_.packs_unindexed = strays_.size();
  return Status::Ok();
}

void PruneRun::ChooseRepack() {
  std::sort(partly_.begin(), partly_.end(), [&](const PackId& a, const PackId& b) {
    const Usage &ua = usage_[a], &ub = usage_[b];
    return ua.unused * (ub.used + ub.unused) > ub.unused * (ua.used + ua.unused);
  });
  uint64_t unused_left = 0;
  for (const auto& p : partly_) unused_left += usage_[p].unused;
  const double pct = opts_.max_unused_percent;
  const double limit = pct < 0 || pct >= 100 ? 1e300 : stats_.bytes_used * pct / (100 - pct);
  for (const auto& p : partly_) {
    if (static_cast<double>(unused_left) <= limit) break;
    repack_.push_back(p);
    unused_left -= usage_[p].unused;
  }
  stats_.packs_repacked = repack_.size();
  stats_.packs_marked = unused_.size() + repack_.size() + strays_.size();
}

Status PruneRun::Repack() {
  for (const auto& pid : repack_) {
    std::set<BlobId> seen;
    for (const auto& e : state_.packs[pid]) {
      if (!used_.count(e.id) || home_[e.id] != pid || !seen.insert(e.id).second) continue;
      if (InterruptRequested()) return InterruptedStatus("the prune");
      RETURN_IF_ERROR(repo_->RepackBlob(e.id, BlobLocation{pid, e}));
      ++stats_.blobs_repacked;
      stats_.bytes_repacked += e.length;
    }
  }
  return repo_->Flush();
}

Status PruneRun::MarkPacks() {
  DeletionMark fresh;
  for (const auto* list : {&unused_, &repack_})
    for (const auto& pid : *list) fresh.packs.push_back({pid, state_.packs[pid]});
  for (const auto& pid : strays_) {
    IndexedPack p{pid, {}};
    if (auto header = LoadPackHeader(backend_, pid.Hex(), repo_->master_key()); header.ok()) p.entries = std::move(*header);
    fresh.strays.push_back(std::move(p));
  }
  if (fresh.packs.empty() && fresh.strays.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(auto jobs, LiveJobs());
  fresh.jobs.assign(jobs.begin(), jobs.end());
  fresh.time_ns = env_->NowUnixNanos();
  ASSIGN_OR_RETURN(fresh.name, repo_->SaveSealed(FileType::kDeletion, EncodeDeletionMark(fresh)));
  marks_.push_back(fresh);
  if (fresh.jobs.empty() && !SleepUnlessInterrupted(opts_.grace_ns)) return InterruptedStatus("the prune");
  return Status::Ok();
}

Status PruneRun::DeleteRipePacks() {
  ASSIGN_OR_RETURN(auto jobs_now, LiveJobs());
  const int64_t now = env_->NowUnixNanos();
  std::vector<const DeletionMark*> ripe;
  for (const auto& m : marks_) {
    bool waiting = false;
    for (const auto& j : m.jobs)
      if (jobs_now.count(j)) {
        waiting = true;
        stats_.waiting_for.push_back(j);
      }
    if (!waiting && now - m.time_ns >= opts_.grace_ns) ripe.push_back(&m);
    else ++stats_.marks_pending;
  }
  if (ripe.empty()) return Status::Ok();

  ASSIGN_OR_RETURN(State now_state, LoadState(repo_));
  std::set<std::string> seen_snapshots;
  for (const auto& s : state_.snapshots) seen_snapshots.insert(s.id);
  std::vector<Snapshot> added;
  for (const auto& s : now_state.snapshots)
    if (!seen_snapshots.count(s.id)) added.push_back(s);
  BlobSet used_now = used_;
  RETURN_IF_ERROR(CollectUsed(repo_, added, &used_now));

  std::set<PackId> doomed;
  for (const DeletionMark* m : ripe) {
    for (const auto& p : m->packs) doomed.insert(p.id);
    for (const auto& p : m->strays)
      if (!now_state.packs.count(p.id)) doomed.insert(p.id);  // a running backup's pack, indexed since, stays
  }
  // A used blob whose every copy is doomed keeps one of its packs.
  std::unordered_map<BlobId, std::vector<PackId>, IdHash> copies;
  for (const auto& [pid, entries] : now_state.packs)
    for (const auto& e : entries) copies[e.id].push_back(pid);
  for (const auto& [blob, where] : copies) {
    if (!used_now.count(blob)) continue;
    if (std::all_of(where.begin(), where.end(), [&](const PackId& p) { return doomed.count(p); }))
      stats_.packs_resurrected += doomed.erase(where.front());
  }
  std::set<PackId> indexed_doomed;
  for (const auto& pid : doomed)
    if (now_state.packs.count(pid)) indexed_doomed.insert(pid);
  if (!indexed_doomed.empty()) RETURN_IF_ERROR(WriteIndexWithout(repo_, now_state, indexed_doomed));
  for (const auto& pid : doomed) {
    RETURN_IF_ERROR(Ignore(backend_->Remove(FileType::kPack, pid.Hex()), ErrorCode::kNotFound));
    ++stats_.packs_deleted;
  }
  for (const DeletionMark* m : ripe)
    RETURN_IF_ERROR(Ignore(backend_->Remove(FileType::kDeletion, m->name), ErrorCode::kNotFound));
  return Status::Ok();
}

Result<std::set<std::string>> PruneRun::LiveJobs() {
  ASSIGN_OR_RETURN(auto locks, ListLocks(repo_));
  const int64_t now = env_->NowUnixNanos();
  std::set<std::string> jobs;
  for (const auto& l : locks)
    if (l.job != opts_.own_job && !IsStale(l, now, opts_.hostname)) jobs.insert(l.job);
  return jobs;
}

}  // namespace

Result<PruneStats> Pruner::Run() { return PruneRun(repo_, opts_).Run(); }

}  // namespace backspan
