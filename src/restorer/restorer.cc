#include "restorer/restorer.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "restorer/pack_order_fill.h"
#include "restorer/sparse_write.h"
#include "util/bounded_queue.h"
#include "util/interrupt.h"

namespace backspan {
namespace {

// An open directory, shared by the file jobs inside it.
struct DirFd {
  explicit DirFd(int f) : fd(f) {}
  ~DirFd() {
    if (fd >= 0) ::close(fd);
  }
  DirFd(const DirFd&) = delete;
  DirFd& operator=(const DirFd&) = delete;
  int fd;
};

std::string JoinRel(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

timespec ToTimespec(int64_t ns) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / 1000000000);
  ts.tv_nsec = static_cast<long>(ns % 1000000000);
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    --ts.tv_sec;
  }
  return ts;
}

// Opens `rel` below `root` one component at a time, never following symlinks.
Result<int> OpenDirBeneath(int root, const std::string& rel) {
  int fd = ::dup(root);
  if (fd < 0) return Status::FromErrno(errno, "dup");
  size_t pos = 0;
  while (pos < rel.size()) {
    size_t slash = rel.find('/', pos);
    if (slash == std::string::npos) slash = rel.size();
    std::string comp = rel.substr(pos, slash - pos);
    int next = ::openat(fd, comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    ::close(fd);
    if (next < 0) return Status::FromErrno(err, "open directory " + rel);
    fd = next;
    pos = slash + 1;
  }
  return fd;
}

}  // namespace

struct Restorer::PlanDir {
  std::string rel;  // relative to the target; empty for the root
  Node node;        // the directory's own metadata (unused for the root)
  std::vector<Node> entries;  // non-directory nodes to restore here
  std::vector<std::unique_ptr<PlanDir>> dirs;
};

struct Restorer::FileJob {
  std::shared_ptr<DirFd> dir;
  std::string rel;
  Node node;
  int fd;  // created by the planning thread: creating files from several
           // threads in one directory only contends on its lock
};

class Restorer::Impl {
 public:
  Impl(Restorer* r) : r_(r), repo_(r->repo_), opts_(r->opts_) {}

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
    if (r_->on_issue_) r_->on_issue_(issue);
    result_.issues.push_back(std::move(issue));
  }

  // Removes whatever is at `name` in `dirfd` if overwriting is allowed.
  bool ClearForOverwrite(int dirfd, const std::string& name, bool keep_dir) {
    if (!opts_.overwrite) return false;
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT;
    if (S_ISDIR(st.st_mode)) return keep_dir;
    return ::unlinkat(dirfd, name.c_str(), 0) == 0;
  }

  void SetMetadata(int dirfd, const std::string& name, const Node& n, int fd) {
    bool link = n.kind == FileKind::kSymlink;
    if (opts_.restore_owner) {
      int rc = fd >= 0 ? ::fchown(fd, n.uid, n.gid)
                       : ::fchownat(dirfd, name.c_str(), n.uid, n.gid, AT_SYMLINK_NOFOLLOW);
      (void)rc;  // best effort, as with every backup tool
    }
    if (!link) {
      if (fd >= 0) (void)::fchmod(fd, n.mode);
      else (void)::fchmodat(dirfd, name.c_str(), n.mode, 0);
    }
    timespec times[2] = {ToTimespec(n.mtime_ns), ToTimespec(n.mtime_ns)};
    if (fd >= 0) (void)::futimens(fd, times);
    else (void)::utimensat(dirfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }

  // Creates a file to restore into; the caller owns the descriptor.
  Result<int> CreateFile(int dirfd, const std::string& name) {
    int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::openat(dirfd, name.c_str(), flags, 0600);
    if (fd < 0 && errno == EEXIST && ClearForOverwrite(dirfd, name, false))
      fd = ::openat(dirfd, name.c_str(), flags, 0600);
    if (fd < 0) return Status::FromErrno(errno, "create");
    return fd;
  }

  Status RestoreFile(FileJob& job) {
    const Node& n = job.node;
    int fd = job.fd;
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
      st = WriteSparse(fd, offset, *data, "/" + job.rel, &written_end);
      if (!st.ok()) break;
      offset += data->size();
      r_->progress_.bytes_done += data->size();
    }
    return FinishFile(job, fd, st, offset, written_end);
  }

  // Completes a filled file (its size, if it ends in a hole; its metadata)
  // and closes `fd`; or, if filling it failed, removes it: a file with wrong
  // content is never left under its real name.
  Status FinishFile(const FileJob& job, int fd, Status st, uint64_t size, uint64_t written_end) {
    const Node& n = job.node;
    int dirfd = job.dir->fd;
    if (st.ok() && written_end < size && ::ftruncate(fd, static_cast<off_t>(size)) != 0)
      st = Status::FromErrno(errno, "truncate");
    if (st.ok()) SetMetadata(dirfd, n.name, n, fd);
    ::close(fd);
    if (!st.ok()) {
      (void)::unlinkat(dirfd, n.name.c_str(), 0);
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
    for (const FileJob& j : pack_jobs_) files.push_back({j.dir->fd, j.node.name, "/" + j.rel, j.node.content});
    FillCallbacks cb;
    cb.on_bytes = [this](uint64_t bytes) { r_->progress_.bytes_done += bytes; };
    cb.on_done = [this](size_t i, const Status& status, uint64_t size, uint64_t written_end) {
      const FileJob& job = pack_jobs_[i];
      Status st = status;
      int fd = ::openat(job.dir->fd, job.node.name.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && st.ok()) st = Status::FromErrno(errno, "open");
      if (fd >= 0) st = FinishFile(job, fd, st, size, written_end);
      else (void)::unlinkat(job.dir->fd, job.node.name.c_str(), 0);
      if (!st.ok() && st.code() != ErrorCode::kInterrupted) Issue(job.rel, st.message());
      r_->progress_.files_done++;
    };
    FillByPack(repo_, files, threads, 8 << 20, cb);
  }

  Status VerifyFile(const FileJob& job) {
    int fd = ::openat(job.dir->fd, job.node.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, "verify: open");
    uint64_t offset = 0;
    Status st;
    Bytes buf;
    for (const auto& id : job.node.content) {
      auto loc = repo_->index().Lookup(id);
      if (!loc) {
        st = Status::NotFound("verify: blob " + id.ShortHex() + " is not in the index");
        break;
      }
      buf.resize(loc->entry.raw_length);
      ssize_t got = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
      if (got != static_cast<ssize_t>(buf.size()) || repo_->HashBlob(buf) != id) {
        st = Status::Corruption("verify: restored content differs from the snapshot at offset " +
                                std::to_string(offset));
        break;
      }
      offset += buf.size();
    }
    ::close(fd);
    if (st.ok()) {
      std::lock_guard lock(mu_);
      result_.files_verified++;
    }
    return st;
  }

  void Worker() {
    while (auto job = queue_->Pop()) {
      Status st = RestoreFile(*job);
      if (!st.ok() && st.code() != ErrorCode::kInterrupted) Issue(job->rel, st.message());
      r_->progress_.files_done++;
    }
  }

  // Creates what `dir` lists inside the open directory `fd`.
  Status Execute(PlanDir& dir, const std::shared_ptr<DirFd>& fd) {
    for (auto& n : dir.entries) {
      if (InterruptRequested()) return InterruptedStatus("the restore");
      std::string rel = JoinRel(dir.rel, n.name);
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
          if (opts_.overwrite) ClearForOverwrite(fd->fd, n.name, false);
          pack_jobs_.push_back({fd, rel, std::move(n), -1});
          continue;
        }
        auto file = CreateFile(fd->fd, n.name);
        if (!file.ok()) {
          Issue(rel, file.status().message());
          continue;
        }
        if (by_pack_) {
          ::close(*file);
          pack_jobs_.push_back({fd, rel, std::move(n), -1});
        } else if (!queue_->Push({fd, rel, std::move(n), *file})) {
          ::close(*file);
        }
        continue;
      }
      Status st = CreateSpecial(fd->fd, n);
      if (!st.ok()) Issue(rel, st.message());
    }
    for (auto& sub : dir.dirs) {
      const std::string& name = sub->node.name;
      if (::mkdirat(fd->fd, name.c_str(), 0700) != 0) {
        if (errno != EEXIST || !ClearForOverwrite(fd->fd, name, true) ||
            (::mkdirat(fd->fd, name.c_str(), 0700) != 0 && errno != EEXIST)) {
          Issue(sub->rel, std::strerror(errno) + std::string(" (creating directory)"));
          continue;
        }
      }
      int child = ::openat(fd->fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        Issue(sub->rel, std::string("open directory: ") + std::strerror(errno));
        continue;
      }
      result_.dirs_restored++;
      RETURN_IF_ERROR(Execute(*sub, std::make_shared<DirFd>(child)));
    }
    return Status::Ok();
  }

  Status CreateSpecial(int dirfd, const Node& n) {
    const char* name = n.name.c_str();
    int rc = -1;
    for (int attempt = 0; attempt < 2; ++attempt) {
      switch (n.kind) {
        case FileKind::kSymlink: rc = ::symlinkat(n.link_target.c_str(), dirfd, name); break;
        case FileKind::kFifo: rc = ::mkfifoat(dirfd, name, 0600); break;
        case FileKind::kDev:
        case FileKind::kCharDev:
          if (!opts_.restore_owner) return Status::Unsupported("device node skipped (needs root)");
          rc = ::mknodat(dirfd, name, (n.kind == FileKind::kDev ? S_IFBLK : S_IFCHR) | 0600,
                         static_cast<dev_t>(n.rdev));
          break;
        default: return Status::Unsupported("unsupported file type skipped");
      }
      if (rc == 0 || errno != EEXIST || !ClearForOverwrite(dirfd, n.name, false)) break;
    }
    if (rc != 0) return Status::FromErrno(errno, "create");
    SetMetadata(dirfd, n.name, n, -1);
    std::lock_guard lock(mu_);
    result_.files_restored++;
    return Status::Ok();
  }

  // Directory metadata last, deepest first, so that restoring contents does
  // not change a directory's mtime or trip over read-only permissions.
  void FinishDirs(PlanDir& dir, int root) {
    for (auto& sub : dir.dirs) FinishDirs(*sub, root);
    if (dir.rel.empty()) return;
    size_t slash = dir.rel.rfind('/');
    std::string parent = slash == std::string::npos ? "" : dir.rel.substr(0, slash);
    auto pfd = OpenDirBeneath(root, parent);
    if (!pfd.ok()) return;
    SetMetadata(*pfd, dir.node.name, dir.node, -1);
    ::close(*pfd);
  }

  void MakeLinks(int root) {
    for (const auto& [rel, first] : links_) {
      auto split = [](const std::string& p) {
        size_t s = p.rfind('/');
        return s == std::string::npos ? std::make_pair(std::string(), p)
                                      : std::make_pair(p.substr(0, s), p.substr(s + 1));
      };
      auto [from_dir, from_name] = split(first);
      auto [to_dir, to_name] = split(rel);
      auto from = OpenDirBeneath(root, from_dir);
      auto to = OpenDirBeneath(root, to_dir);
      if (from.ok() && to.ok()) {
        int rc = ::linkat(*from, from_name.c_str(), *to, to_name.c_str(), 0);
        if (rc != 0 && errno == EEXIST && ClearForOverwrite(*to, to_name, false))
          rc = ::linkat(*from, from_name.c_str(), *to, to_name.c_str(), 0);
        if (rc == 0) result_.links_restored++;
        else Issue(rel, std::string("hard link: ") + std::strerror(errno));
      } else {
        Issue(rel, "hard link: cannot open its directory");
      }
      if (from.ok()) ::close(*from);
      if (to.ok()) ::close(*to);
    }
  }

  // Creates the target if needed; refuses a non-empty one without --overwrite.
  Status PrepareTarget() {
    std::error_code ec;
    std::filesystem::path target(opts_.target);
    if (std::filesystem::exists(target, ec)) {
      if (!std::filesystem::is_directory(target, ec))
        return Status::InvalidArgument("restore target " + opts_.target + " is not a directory");
      if (!opts_.overwrite && !std::filesystem::is_empty(target, ec))
        return Status::InvalidArgument("restore target " + opts_.target +
                                       " is not empty; use --overwrite to restore into it, or choose an empty directory");
      return Status::Ok();
    }
    std::filesystem::create_directories(target, ec);
    if (ec) return Status::IOError("cannot create restore target " + opts_.target + ": " + ec.message());
    return Status::Ok();
  }

  static uint64_t CountDirs(const PlanDir& dir) {
    uint64_t n = 1;
    for (const auto& d : dir.dirs) n += CountDirs(*d);
    return n;
  }

  Result<RestoreResult> Run(const Snapshot& snap) {
    ASSIGN_OR_RETURN(auto plan, Plan(snap.tree, "", false));
    if (!plan) plan = std::make_unique<PlanDir>();
    // Deep trees keep one descriptor per level open.
    struct rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      (void)::setrlimit(RLIMIT_NOFILE, &rl);
    }
    RETURN_IF_ERROR(PrepareTarget());
    int root = ::open(opts_.target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return Status::FromErrno(errno, "open restore target " + opts_.target);
    auto root_fd = std::make_shared<DirFd>(root);
    unsigned threads = opts_.threads ? opts_.threads
                                     : std::max(2 * std::max(1u, std::thread::hardware_concurrency()),
                                                static_cast<unsigned>(repo_->backend()->ReadConcurrency()));
    // Over a network, each pack is read once in spans; from a disk, files
    // are filled one after another as they are created. Filling by pack
    // keeps every directory open until the end, beside each reader's
    // files: only if they all fit.
    const uint64_t open_limit = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
    const uint64_t fill_needs = CountDirs(*plan) + uint64_t{threads} * kOpenFilesPerReader + 64;
    by_pack_ = repo_->backend()->ReadConcurrency() > 1 && fill_needs < open_limit;
    queue_ = std::make_unique<BoundedQueue<FileJob>>(256);
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < (by_pack_ ? 0 : threads); ++i) workers.emplace_back([this] { Worker(); });
    Status st = Execute(*plan, root_fd);
    queue_->Close();
    for (auto& t : workers) t.join();
    RETURN_IF_ERROR(st);
    if (by_pack_) FillByPacks(threads);
    if (InterruptRequested()) return InterruptedStatus("the restore");
    MakeLinks(root);
    FinishDirs(*plan, root);
    return std::move(result_);
  }

 private:
  Restorer* r_;
  Repository* repo_;
  const RestoreOptions& opts_;
  std::mutex mu_;
  RestoreResult result_;
  std::unique_ptr<BoundedQueue<FileJob>> queue_;
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
