#include "restorer/restorer.h"

#include <sys/resource.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "env/directory.h"
#include "restorer/pack_order_fill.h"
#include "restorer/sparse_write.h"
#include "trace/semconv.h"
#include "util/bounded_queue.h"
#include "util/interrupt.h"

namespace backspan {
namespace {

std::string JoinRel(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// Opens `rel` below `root` one component at a time, never following symlinks.
Result<std::unique_ptr<Directory>> OpenDirBeneath(Directory* root, const std::string& rel) {
  ASSIGN_OR_RETURN(auto dir, root->OpenDir("."));
  size_t pos = 0;
  while (pos < rel.size()) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string::npos) slash = rel.size();
    ASSIGN_OR_RETURN(dir, dir->OpenDir(rel.substr(pos, slash - pos)));
    pos = slash + 1;
  }
  return dir;
}

std::pair<std::string, std::string> SplitParent(const std::string& rel) {
  size_t s = rel.rfind('/');
  return s == std::string::npos ? std::make_pair(std::string(), rel) : std::make_pair(rel.substr(0, s), rel.substr(s + 1));
}

}  // namespace

struct Restorer::PlanDir {
  std::string rel;  // relative to the target; empty for the root
  Node node;        // the directory's own metadata (unused for the root)
  std::vector<Node> entries;  // non-directory nodes to restore here
  std::vector<std::unique_ptr<PlanDir>> dirs;
};

struct Restorer::FileJob {
  std::shared_ptr<Directory> dir;
  std::string rel;
  Node node;
  // Created by the planning thread: creating files from several threads in
  // one directory only contends on its lock.
  std::unique_ptr<PositionalFile> file;
};

class Restorer::Impl {
 public:
  Impl(Restorer* r) : r_(r), repo_(r->repo_), env_(r->repo_->env()), opts_(r->opts_) {}

  Result<std::unique_ptr<PlanDir>> Plan(const BlobId& tree_id, const std::string& rel,
                                        bool include_all) {
    if (InterruptRequested()) return InterruptedStatus("the restore");
    ASSIGN_OR_RETURN(Tree tree, repo_->LoadTree(tree_id));
    auto dir = std::make_unique<PlanDir>();
    dir->rel = rel;
    bool any = false;
    for (auto& node : tree.nodes) {
      std::string child_rel = JoinRel(rel, node.name);
      bool included = include_all || opts_.includes.empty() || opts_.includes.Matches("/" + child_rel);
      if (node.kind == FileKind::kDir) {
        auto sub = Plan(node.subtree, child_rel, included);
        if (!sub.ok() && sub.status().code() == ErrorCode::kInterrupted) return sub.status();
        if (!sub.ok()) {
          Issue(child_rel, sub.status().message());
          continue;
        }
        if (*sub) {
          (*sub)->node = std::move(node);
          dir->dirs.push_back(std::move(*sub));
          any = true;
        }
        continue;
      }
      if (!included) continue;
      if (node.kind == FileKind::kFile) {
        r_->progress_.files_total++;
        r_->progress_.bytes_total += node.size;
      }
      dir->entries.push_back(std::move(node));
      any = true;
    }
    if (!any && !include_all && !opts_.includes.empty() && !rel.empty()) return std::unique_ptr<PlanDir>();
    return dir;
  }

  void Issue(const std::string& rel, const std::string& message) {
    std::lock_guard lock(mu_);
    r_->progress_.errors++;
    RestoreIssue issue{"/" + rel, message};
    if (phase_)
      phase_->AddEvent(semconv::kFileErrorEvent, {{semconv::kFilePath, issue.path}, {semconv::kMessage, message}});
    if (r_->on_issue_) r_->on_issue_(issue);
    result_.issues.push_back(std::move(issue));
  }

  // Removes whatever is at `name` in `dir` if overwriting is allowed.
  bool ClearForOverwrite(Directory* dir, const std::string& name, bool keep_dir) {
    if (!opts_.overwrite) return false;
    auto info = dir->Lstat(name);
    if (!info.ok()) return info.status().code() == ErrorCode::kNotFound;
    if (info->kind == FileKind::kDir) return keep_dir;
    return dir->Remove(name).ok();
  }

  FileMetadata MetadataOf(const Node& n) const {
    FileMetadata m;
    m.mode = n.mode;
    m.uid = n.uid;
    m.gid = n.gid;
    m.set_owner = opts_.restore_owner;
    m.mtime_ns = n.mtime_ns;
    return m;
  }

  // Best effort, as with every backup tool: the content is what matters.
  void SetMetadata(Directory* dir, const Node& n, PositionalFile* file) {
    if (file) (void)file->SetMetadata(MetadataOf(n));
    else (void)dir->SetMetadata(n.name, MetadataOf(n));
  }

  // Creates a file to restore into.
  Result<std::unique_ptr<PositionalFile>> CreateFile(Directory* dir, const std::string& name) {
    auto file = dir->CreateFile(name);
    if (!file.ok() && file.status().code() == ErrorCode::kAlreadyExists && ClearForOverwrite(dir, name, false))
      file = dir->CreateFile(name);
    return file;
  }

  Status RestoreFile(FileJob& job) {
    const Node& n = job.node;
    uint64_t offset = 0, written_end = 0;
    Status st;
    for (const auto& id : n.content) {
      if (InterruptRequested()) {
        st = InterruptedStatus("the restore");
        break;
      }
      auto data = repo_->LoadBlob(id);
      if (!data.ok()) {
        st = data.status();
        break;
      }
      st = WriteSparse(job.file.get(), offset, *data, &written_end);
      if (!st.ok()) break;
      offset += data->size();
      r_->progress_.bytes_done += data->size();
    }
    return FinishFile(job, std::move(job.file), st, offset, written_end);
  }

  // Completes a filled file (its size, if it ends in a hole; its metadata)
  // and closes it; or, if filling it failed, removes it: a file with wrong
  // content is never left under its real name.
  Status FinishFile(const FileJob& job, std::unique_ptr<PositionalFile> file, Status st, uint64_t size,
                    uint64_t written_end) {
    const Node& n = job.node;
    if (st.ok() && written_end < size) st = file->Truncate(size);
    if (st.ok()) SetMetadata(job.dir.get(), n, file.get());
    Status closed = file->Close();
    if (st.ok()) st = closed;
    if (!st.ok()) {
      (void)job.dir->Remove(n.name);
      return st;
    }
    {
      std::lock_guard lock(mu_);
      result_.bytes_written += size;
      result_.files_restored++;
    }
    if (opts_.verify) return VerifyFile(job);
    return Status::Ok();
  }

  // Fills the files Execute created pack by pack (pack_order_fill.h).
  void FillByPacks(unsigned threads) {
    std::vector<FileToFill> files;
    files.reserve(pack_jobs_.size());
    for (const FileJob& j : pack_jobs_) files.push_back({j.dir.get(), j.node.name, "/" + j.rel, j.node.content});
    FillCallbacks cb;
    cb.on_bytes = [this](uint64_t bytes) { r_->progress_.bytes_done += bytes; };
    cb.on_done = [this](size_t i, const Status& status, uint64_t size, uint64_t written_end) {
      const FileJob& job = pack_jobs_[i];
      Status st = status;
      auto file = job.dir->OpenForWrite(job.node.name, false);
      if (file.ok()) {
        st = FinishFile(job, std::move(*file), st, size, written_end);
      } else {
        if (st.ok()) st = file.status();
        (void)job.dir->Remove(job.node.name);
      }
      if (!st.ok() && st.code() != ErrorCode::kInterrupted) Issue(job.rel, st.message());
      r_->progress_.files_done++;
    };
    FillByPack(repo_, files, threads, 8 << 20, cb);
  }

  Status VerifyFile(const FileJob& job) {
    auto file = job.dir->OpenForRead(job.node.name);
    if (!file.ok()) return file.status().WithContext("verify");
    uint64_t offset = 0;
    Bytes buf;
    for (const auto& id : job.node.content) {
      auto loc = repo_->index().Lookup(id);
      if (!loc) return Status::NotFound("verify: blob " + id.ShortHex() + " is not in the index");
      buf.resize(loc->entry.raw_length);
      size_t got = 0;
      while (got < buf.size()) {
        auto n = (*file)->ReadAt(offset + got, buf.data() + got, buf.size() - got);
        if (!n.ok()) return n.status().WithContext("verify");
        if (*n == 0) break;
        got += *n;
      }
      if (got != buf.size() || repo_->HashBlob(buf) != id)
        return Status::Corruption("verify: restored content differs from the snapshot at offset " + std::to_string(offset));
      offset += buf.size();
    }
    std::lock_guard lock(mu_);
    result_.files_verified++;
    return Status::Ok();
  }

  void Worker() {
    while (auto job = queue_->Pop()) {
      Status st = RestoreFile(*job);
      if (!st.ok() && st.code() != ErrorCode::kInterrupted) Issue(job->rel, st.message());
      r_->progress_.files_done++;
    }
  }

  // Creates what `plan` lists inside the open directory `dir`.
  Status Execute(PlanDir& plan, const std::shared_ptr<Directory>& dir) {
    for (auto& n : plan.entries) {
      if (InterruptRequested()) return InterruptedStatus("the restore");
      std::string rel = JoinRel(plan.rel, n.name);
      if (n.kind == FileKind::kFile) {
        if (n.nlink > 1) {
          auto key = std::make_pair(n.dev, n.inode);
          auto it = hardlinks_.find(key);
          if (it != hardlinks_.end()) {
            links_.push_back({rel, it->second});
            continue;
          }
          hardlinks_.emplace(key, rel);
        }
        if (by_pack_ && !n.content.empty()) {
          // Created by the fill, pack by pack, in parallel with the reads.
          if (opts_.overwrite) ClearForOverwrite(dir.get(), n.name, false);
          pack_jobs_.push_back({dir, rel, std::move(n), nullptr});
          continue;
        }
        auto file = CreateFile(dir.get(), n.name);
        if (!file.ok()) {
          Issue(rel, file.status().message());
          continue;
        }
        if (by_pack_) {
          (void)(*file)->Close();  // an empty file: complete once its metadata is set
          pack_jobs_.push_back({dir, rel, std::move(n), nullptr});
        } else {
          (void)queue_->Push({dir, rel, std::move(n), std::move(*file)});
        }
        continue;
      }
      Status st = CreateSpecial(dir.get(), n);
      if (!st.ok()) Issue(rel, st.message());
    }
    for (auto& sub : plan.dirs) {
      const std::string& name = sub->node.name;
      Status made = dir->MakeDir(name);
      if (!made.ok() && made.code() == ErrorCode::kAlreadyExists && ClearForOverwrite(dir.get(), name, true)) {
        made = dir->MakeDir(name);  // where something else was; a directory that is there stays
        if (made.code() == ErrorCode::kAlreadyExists) made = Status::Ok();
      }
      if (!made.ok()) {
        Issue(sub->rel, made.message());
        continue;
      }
      auto child = dir->OpenDir(name);
      if (!child.ok()) {
        Issue(sub->rel, child.status().message());
        continue;
      }
      result_.dirs_restored++;
      RETURN_IF_ERROR(Execute(*sub, std::shared_ptr<Directory>(std::move(*child))));
    }
    return Status::Ok();
  }

  Status CreateSpecial(Directory* dir, const Node& n) {
    if ((n.kind == FileKind::kDev || n.kind == FileKind::kCharDev) && !opts_.restore_owner)
      return Status::Unsupported("device node skipped (needs root)");
    if (n.kind != FileKind::kSymlink && n.kind != FileKind::kFifo && n.kind != FileKind::kDev &&
        n.kind != FileKind::kCharDev)
      return Status::Unsupported("unsupported file type skipped");
    Status st;
    for (int attempt = 0; attempt < 2; ++attempt) {
      st = n.kind == FileKind::kSymlink ? dir->MakeSymlink(n.name, n.link_target)
                                        : dir->MakeSpecial(n.name, n.kind, n.rdev);
      if (st.ok() || st.code() != ErrorCode::kAlreadyExists || !ClearForOverwrite(dir, n.name, false)) break;
    }
    if (!st.ok()) return st;
    SetMetadata(dir, n, nullptr);
    std::lock_guard lock(mu_);
    result_.files_restored++;
    return Status::Ok();
  }

  // Directory metadata last, deepest first, so that restoring contents does
  // not change a directory's mtime or trip over read-only permissions.
  void FinishDirs(PlanDir& plan, Directory* root) {
    for (auto& sub : plan.dirs) FinishDirs(*sub, root);
    if (plan.rel.empty()) return;
    auto parent = OpenDirBeneath(root, SplitParent(plan.rel).first);
    if (parent.ok()) SetMetadata(parent->get(), plan.node, nullptr);
  }

  void MakeLinks(Directory* root) {
    for (const auto& [rel, first] : links_) {
      auto [from_dir, from_name] = SplitParent(first);
      auto [to_dir, to_name] = SplitParent(rel);
      auto from = OpenDirBeneath(root, from_dir);
      auto to = OpenDirBeneath(root, to_dir);
      if (!from.ok() || !to.ok()) {
        Issue(rel, "hard link: cannot open its directory");
        continue;
      }
      Status st = (*from)->Link(from_name, to->get(), to_name);
      if (!st.ok() && st.code() == ErrorCode::kAlreadyExists && ClearForOverwrite(to->get(), to_name, false))
        st = (*from)->Link(from_name, to->get(), to_name);
      if (st.ok()) result_.links_restored++;
      else Issue(rel, st.message());
    }
  }

  // Creates the target if needed; refuses a non-empty one without --overwrite.
  Status PrepareTarget() {
    auto info = env_->Lstat(opts_.target);
    if (!info.ok()) {
      if (info.status().code() != ErrorCode::kNotFound) return info.status();
      Status made = CreateDirs(env_, opts_.target);
      if (!made.ok()) return Status::IOError("cannot create restore target " + opts_.target + ": " + made.message());
      return Status::Ok();
    }
    // Links in the path the user names are followed: a link to a directory is one.
    const bool is_dir = info->kind == FileKind::kDir ||
                        (info->kind == FileKind::kSymlink && env_->OpenDirectory(opts_.target).ok());
    if (!is_dir) return Status::InvalidArgument("restore target " + opts_.target + " is not a directory");
    if (opts_.overwrite) return Status::Ok();
    ASSIGN_OR_RETURN(auto entries, env_->ReadDir(opts_.target));
    if (!entries.empty())
      return Status::InvalidArgument("restore target " + opts_.target +
                                     " is not empty; use --overwrite to restore into it, or choose an empty directory");
    return Status::Ok();
  }

  static uint64_t CountDirs(const PlanDir& dir) {
    uint64_t n = 1;
    for (const auto& d : dir.dirs) n += CountDirs(*d);
    return n;
  }

  Result<RestoreResult> Run(const Snapshot& snap) {
    static const trace::Span kUntraced;
    const trace::Span& job = opts_.trace ? *opts_.trace : kUntraced;
    std::unique_ptr<PlanDir> plan;
    RETURN_IF_ERROR(Phase(job, "plan restore", [&]() -> Status {
      ASSIGN_OR_RETURN(plan, Plan(snap.tree, "", false));
      if (!plan) plan = std::make_unique<PlanDir>();
      return PrepareTarget();
    }));
    auto opened = env_->OpenDirectory(opts_.target);
    if (!opened.ok()) return opened.status().WithContext("restore target");
    std::shared_ptr<Directory> root(std::move(*opened));
    RETURN_IF_ERROR(Phase(job, "restore files", [&] { return RestoreFiles(*plan, root); }));
    RETURN_IF_ERROR(Phase(job, "finish restore", [&] {
      MakeLinks(root.get());
      FinishDirs(*plan, root.get());
      return Status::Ok();
    }));
    return std::move(result_);
  }

  // Runs one phase in a child span of `job`; the paths it could not restore
  // become events on it.
  template <typename Fn>
  Status Phase(const trace::Span& job, std::string_view name, Fn&& fn) {
    trace::Span span = job.StartChild(name);
    {
      std::lock_guard lock(mu_);
      phase_ = &span;
    }
    Status st = fn();
    if (st.ok() && InterruptRequested()) st = InterruptedStatus("the restore");
    span.RecordError(st);
    std::lock_guard lock(mu_);
    phase_ = nullptr;
    return st;
  }

  // Creates every file and directory of `plan` below `root` and fills the
  // files: from a disk one after another as they are created, over a
  // network pack by pack.
  Status RestoreFiles(PlanDir& plan, const std::shared_ptr<Directory>& root) {
    // Deep trees keep one descriptor per level open.
    struct rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      (void)::setrlimit(RLIMIT_NOFILE, &rl);
    }
    unsigned threads = opts_.threads ? opts_.threads
                                     : std::max(2 * std::max(1u, std::thread::hardware_concurrency()),
                                                static_cast<unsigned>(repo_->backend()->ReadConcurrency()));
    // Filling by pack keeps every directory open until the end, beside each
    // reader's files: only if they all fit.
    const uint64_t open_limit = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
    const uint64_t fill_needs = CountDirs(plan) + uint64_t{threads} * kOpenFilesPerReader + 64;
    by_pack_ = repo_->backend()->ReadConcurrency() > 1 && fill_needs < open_limit;
    queue_ = std::make_unique<BoundedQueue<FileJob>>(256);
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < (by_pack_ ? 0 : threads); ++i) workers.emplace_back([this] { Worker(); });
    Status st = Execute(plan, root);
    queue_->Close();
    for (auto& t : workers) t.join();
    RETURN_IF_ERROR(st);
    if (by_pack_) FillByPacks(threads);
    return Status::Ok();
  }

 private:
  Restorer* r_;
  Repository* repo_;
  Env* env_;
  const RestoreOptions& opts_;
  std::mutex mu_;
  RestoreResult result_;
  std::unique_ptr<BoundedQueue<FileJob>> queue_;
  const trace::Span* phase_ = nullptr;  // the phase running, for events (under mu_)
  bool by_pack_ = false;
  std::vector<FileJob> pack_jobs_;  // created files, in the order of the snapshot
  std::map<std::pair<uint64_t, uint64_t>, std::string> hardlinks_;
  std::vector<std::pair<std::string, std::string>> links_;  // (path, first path of the inode)
};

Restorer::Restorer(Repository* repo, RestoreOptions options,
                   std::function<void(const RestoreIssue&)> on_issue)
    : repo_(repo), opts_(std::move(options)), on_issue_(std::move(on_issue)) {}

Result<RestoreResult> Restorer::Run(const Snapshot& snapshot) {
  int64_t start = repo_->env()->MonotonicNanos();
  Impl impl(this);
  ASSIGN_OR_RETURN(RestoreResult result, impl.Run(snapshot));
  result.duration_s = static_cast<double>(repo_->env()->MonotonicNanos() - start) / 1e9;
  return result;
}

}  // namespace backspan
