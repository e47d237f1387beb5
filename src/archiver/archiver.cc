#include "archiver/archiver.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "trace/semconv.h"
#include "util/bounded_queue.h"
#include "util/interrupt.h"

namespace backspan {

struct Archiver::Item {
  Node node;
  std::vector<std::unique_ptr<Item>> children;
  Node* prev = nullptr;  // this path's node in the parent snapshot, if any
  bool prev_loaded = false;
  Tree prev_tree;  // the parent snapshot's listing of this directory, sorted by name
  bool skip = false;  // set when the file could not be read at all
  FileInfo scanned;   // lstat facts at scan time, to detect changes while reading

  // The parent snapshot's node called `name` in this directory, if any.
  // Each is handed out once, so its content can be moved, not copied.
  Node* FindPrevChild(const std::string& name) {
    auto& nodes = prev_tree.nodes;
    auto it = std::lower_bound(nodes.begin(), nodes.end(), name,
                               [](const Node& n, const std::string& key) { return n.name < key; });
    return it != nodes.end() && it->name == name ? &*it : nullptr;
  }

  Item* FindChild(const std::string& name) {
    for (auto& c : children)
      if (c->node.name == name) return c.get();
    return nullptr;
  }
};

struct Archiver::FileJob {
  Item* item;
  std::string path;
};

struct Archiver::BlobJob {
  BlobId id;
  Bytes data;
};

// Chunk buffers circulate between readers and savers through `free`: a
// reader takes one per new chunk and a saver gives it back, so the number
// of chunks in flight, and the memory they use, is fixed.
struct Archiver::Queues {
  explicit Queues(size_t threads) : files(256), blobs(2 * threads), free(2 * threads) {
    for (size_t i = 0; i < 2 * threads; ++i) (void)free.Push(Bytes());
  }
  BoundedQueue<FileJob> files;
  BoundedQueue<BlobJob> blobs;
  BoundedQueue<Bytes> free;
};

namespace {

std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

Node NodeFromInfo(const std::string& name, const FileInfo& info) {
  Node n;
  n.name = name;
  n.kind = info.kind;
  n.mode = info.mode;
  n.uid = info.uid;
  n.gid = info.gid;
  n.mtime_ns = info.mtime_ns;
  n.ctime_ns = info.ctime_ns;
  n.dev = info.dev;
  n.inode = info.inode;
  n.nlink = info.nlink;
  n.rdev = info.rdev;
  n.size = info.kind == FileKind::kFile ? info.size : 0;
  return n;
}

}  // namespace

Archiver::Archiver(Repository* repo, Env* env, BackupOptions options,
                   std::function<void(const BackupIssue&)> on_issue)
    : repo_(repo), env_(env), opts_(std::move(options)), on_issue_(std::move(on_issue)) {}

Archiver::~Archiver() = default;

void Archiver::Report(BackupIssue issue) {
  std::lock_guard lock(issues_mu_);
  if (issue.is_error) ++progress_.errors;
  if (on_issue_) on_issue_(issue);
  process_span_.AddEvent(issue.is_error ? semconv::kFileErrorEvent : semconv::kFileNoticeEvent,
                         {{semconv::kFilePath, issue.path}, {semconv::kMessage, issue.message}});
  issues_.push_back(std::move(issue));
}

void Archiver::Fail(Status st) {
  std::lock_guard lock(fail_mu_);
  if (first_failure_.ok()) first_failure_ = std::move(st);
  failed_ = true;
}

bool Archiver::Stopped() {
  if (!failed_ && InterruptRequested()) Fail(InterruptedStatus("the backup"));
  return failed_;
}

void Archiver::LoadPrevTree(Item* dir, const std::string& path) {
  if (dir->prev_loaded) return;
  dir->prev_loaded = true;
  if (!dir->prev || dir->prev->kind != FileKind::kDir) return;
  auto tree = repo_->LoadTree(dir->prev->subtree);
  if (!tree.ok()) {
    // The parent snapshot is damaged here: back this directory up in full.
    Report({path, "parent snapshot unreadable here, reading everything: " + tree.status().message(), false});
    return;
  }
  dir->prev_tree = std::move(*tree);
}

void Archiver::AddChild(Item* dir, const std::string& dir_path, const std::string& name,
                        const FileInfo& info) {
  const std::string path = JoinPath(dir_path, name);
  if (info.kind == FileKind::kSocket) {
    Report({path, "socket skipped", false});
    return;
  }
  auto item = std::make_unique<Item>();
  item->node = NodeFromInfo(name, info);
  item->scanned = info;
  LoadPrevTree(dir, dir_path);
  item->prev = dir->FindPrevChild(name);
  Item* raw = item.get();
  dir->children.push_back(std::move(item));

  switch (info.kind) {
    case FileKind::kFile: {
      progress_.files_total++;
      progress_.bytes_total += info.size;
      Node* p = raw->prev;
      bool unchanged = p && p->kind == FileKind::kFile && p->size == info.size &&
                       p->mtime_ns == info.mtime_ns && p->ctime_ns == info.ctime_ns &&
                       p->inode == info.inode;
      if (unchanged)
        for (const auto& id : p->content)
          if (!repo_->index().Has(id)) unchanged = false;
      if (unchanged) {
        raw->node.content = std::move(p->content);
        files_unmodified_++;
        bytes_unmodified_ += info.size;
        progress_.files_done++;
        progress_.bytes_done += info.size;
      } else {
        bool changed = p && p->kind == FileKind::kFile;
        (changed ? files_changed_ : files_new_)++;
        (changed ? bytes_changed_ : bytes_new_) += info.size;
        queues_->files.Push({raw, path});
      }
      break;
    }
    case FileKind::kDir:
      ScanDir(path, raw);
      break;
    case FileKind::kSymlink: {
      auto target = env_->ReadLink(path);
      if (!target.ok()) {
        Report({path, target.status().message()});
        raw->skip = true;
      } else {
        raw->node.link_target = std::move(*target);
      }
      break;
    }
    default:
      break;  // devices and FIFOs: metadata only
  }
}

void Archiver::ScanDir(const std::string& path, Item* dir) {
  if (Stopped()) return;
  auto entries = env_->ReadDir(path);
  if (!entries.ok()) {
    Report({path, entries.status().message()});
    return;
  }
  std::sort(entries->begin(), entries->end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  for (const auto& e : *entries) {
    if (Stopped()) break;
    std::string child = JoinPath(path, e.name);
    if (opts_.excludes.Matches(child)) continue;
    auto info = env_->Lstat(child);
    if (!info.ok()) {
      Report({child, info.status().code() == ErrorCode::kNotFound ? "file vanished during backup"
                                                                  : info.status().message()});
      continue;
    }
    AddChild(dir, path, e.name, *info);
  }
}

Status Archiver::ScanPath(Item* root, const std::string& abs_path) {
  std::vector<std::string> comps;
  for (const auto& part : std::filesystem::path(abs_path))
    if (part != "/" && !part.empty()) comps.push_back(part.string());
  if (comps.empty()) {
    ScanDir("/", root);
    return Status::Ok();
  }
  Item* cur = root;
  std::string cur_path;
  for (size_t i = 0; i + 1 < comps.size(); ++i) {
    cur_path += "/" + comps[i];
    Item* next = cur->FindChild(comps[i]);
    if (next == nullptr) {
      ASSIGN_OR_RETURN(FileInfo info, env_->Lstat(cur_path));
      auto item = std::make_unique<Item>();
      item->node = NodeFromInfo(comps[i], info);
      LoadPrevTree(cur, i == 0 ? "/" : cur_path.substr(0, cur_path.rfind('/')));
      item->prev = cur->FindPrevChild(comps[i]);
      next = item.get();
      cur->children.push_back(std::move(item));
    }
    cur = next;
  }
  if (cur->FindChild(comps.back())) return Status::Ok();  // given twice
  auto info = env_->Lstat(abs_path);
  if (!info.ok()) return info.status();
  AddChild(cur, cur_path.empty() ? "/" : cur_path, comps.back(), *info);
  return Status::Ok();
}

void Archiver::SaveChunk(Item* item, ByteView chunk) {
  BlobId id = repo_->HashBlob(chunk);
  item->node.content.push_back(id);
  if (repo_->index().Has(id)) return;
  // Hand large chunks to the savers while they have room, so one big file
  // still keeps every core busy; save small chunks, and any chunk while the
  // savers are busy, right here, which spares a copy and a thread switch.
  constexpr size_t kHandOffAbove = 256 * 1024;
  if (chunk.size() > kHandOffAbove) {
    if (std::optional<Bytes> buffer = queues_->free.TryPop()) {
      buffer->assign(chunk.begin(), chunk.end());
      (void)queues_->blobs.Push({id, std::move(*buffer)});
      return;
    }
  }
  SaveBlobNow(id, chunk);
}

void Archiver::SaveBlobNow(const BlobId& id, ByteView data) {
  auto saved = repo_->SaveBlob(BlobType::kData, id, data, opts_.compression);
  Status st = saved.ok() ? repo_->MaybeCheckpointIndex() : saved.status();
  if (!st.ok()) Fail(st);
}

void Archiver::ProcessFile(FileJob& job) {
  Item* item = job.item;
  auto finish = [&](uint64_t done) {
    progress_.files_done++;
    progress_.bytes_done += item->scanned.size > done ? item->scanned.size - done : 0;
  };
  auto file = env_->OpenForRead(job.path);
  if (!file.ok()) {
    Report({job.path, file.status().code() == ErrorCode::kNotFound ? "file vanished during backup"
                                                                   : file.status().message()});
    item->skip = true;
    finish(0);
    return;
  }
  // Large files are notable work: a span each. Small files get none, which
  // keeps a job's span count bounded (docs/tracing.md).
  trace::Span file_span;
  if (item->scanned.size >= opts_.large_file_bytes) {
    file_span = process_span_.StartChild("large file");
    file_span.SetAttribute(semconv::kFilePath, job.path);
    file_span.SetAttribute(semconv::kFileSize, item->scanned.size);
  }
  const FastCdc& cdc = repo_->chunker();
  const size_t max = cdc.params().max_size;
  thread_local Bytes buf;
  buf.resize(2 * max);
  size_t start = 0, end = 0;
  uint64_t offset = 0;
  bool eof = false;
  while (!Stopped()) {
    size_t avail = end - start;
    size_t cut = avail ? cdc.NextCut(ByteView(buf.data() + start, avail), eof) : avail + 1;
    if (cut <= avail) {
      SaveChunk(item, ByteView(buf.data() + start, cut));
      start += cut;
      continue;
    }
    if (eof) break;
    // The chunker needs more data: move the tail to the front and refill.
    std::copy(buf.begin() + static_cast<ptrdiff_t>(start), buf.begin() + static_cast<ptrdiff_t>(end),
              buf.begin());
    end -= start;
    start = 0;
    while (end < buf.size()) {
      auto n = (*file)->ReadAt(offset, buf.data() + end, buf.size() - end);
      if (!n.ok()) {
        Report({job.path, n.status().message()});
        item->skip = true;
        finish(offset);
        return;
      }
      if (*n == 0) {
        eof = true;
        break;
      }
      end += *n;
      offset += *n;
      progress_.bytes_read += *n;
      progress_.bytes_done += *n;
      // Read to the size seen by the scan: take that as the end rather than
      // pay one more read per small file. Growth shows in the fstat below.
      if (offset == item->scanned.size && end < buf.size()) {
        eof = true;
        break;
      }
    }
  }
  // A job that failed (a write error elsewhere) stopped reading this file:
  // it did not change, and it will not be saved.
  if (failed_) return;
  item->node.size = offset;
  progress_.files_done++;
  auto now = (*file)->Stat();
  if (now.ok() && (now->size != item->scanned.size || now->mtime_ns != item->scanned.mtime_ns ||
                   offset != item->scanned.size))
    Report({job.path, "file changed during backup"});
}

void Archiver::ReaderLoop() {
  while (auto job = queues_->files.Pop()) {
    if (Stopped()) continue;  // keep draining so the scanner never blocks
    ProcessFile(*job);
  }
}

void Archiver::SaverLoop() {
  while (auto job = queues_->blobs.Pop()) {
    if (!Stopped()) SaveBlobNow(job->id, job->data);
    (void)queues_->free.Push(std::move(job->data));
  }
}

Result<BlobId> Archiver::SaveTrees(Item* dir, bool is_root) {
  Tree tree;
  for (auto& child : dir->children) {
    if (child->skip) continue;
    if (child->node.kind == FileKind::kDir) {
      ASSIGN_OR_RETURN(child->node.subtree, SaveTrees(child.get(), false));
    }
    tree.nodes.push_back(std::move(child->node));
  }
  std::sort(tree.nodes.begin(), tree.nodes.end(),
            [](const Node& a, const Node& b) { return a.name < b.name; });
  ASSIGN_OR_RETURN(BlobId id, repo_->SaveTree(tree, opts_.compression));
  if (!is_root) {
    if (!dir->prev || dir->prev->kind != FileKind::kDir) ++dirs_new_;
    else if (dir->prev->subtree == id) ++dirs_unmodified_;
    else ++dirs_changed_;
  }
  return id;
}

Result<BackupResult> Archiver::Run() {
  const int64_t start_mono = env_->MonotonicNanos();
  // The repository counts for its whole lifetime; this backup reports its own share.
  const uint64_t data_blobs_before = repo_->blobs_added(BlobType::kData);
  const uint64_t tree_blobs_before = repo_->blobs_added(BlobType::kTree);
  const uint64_t added_before = repo_->bytes_added();
  const uint64_t written_before = repo_->bytes_written();
  static const trace::Span kUntraced;
  const trace::Span& job = opts_.trace ? *opts_.trace : kUntraced;
  auto phase = [&](const char* name) { return job.StartChild(name); };
  Snapshot snap;
  snap.time_ns = opts_.time_ns.value_or(env_->NowUnixNanos());
  snap.trace_id = opts_.trace_id;
  if (opts_.paths.empty()) return Status::InvalidArgument("nothing to back up: give at least one path");

  // Absolute, normalised, deduplicated source paths; each must exist.
  std::vector<std::string> targets;
  for (const auto& p : opts_.paths) {
    std::error_code ec;
    std::string abs = std::filesystem::absolute(p, ec).lexically_normal().string();
    while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
    if (ec) return Status::InvalidArgument("cannot resolve path " + p);
    auto info = env_->Lstat(abs);
    if (!info.ok()) return Status::NotFound("source path " + p + " does not exist or cannot be read: " +
                                            info.status().message());
    targets.push_back(abs);
  }
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  // Drop targets inside another target.
  std::vector<std::string> roots;
  for (const auto& t : targets) {
    bool inside = false;
    for (const auto& r : roots)
      if (r == "/" || t.rfind(r + "/", 0) == 0) inside = true;
    if (!inside) roots.push_back(t);
  }
  snap.paths = roots;
  snap.hostname = opts_.hostname;
  snap.username = opts_.username;
  snap.uid = opts_.uid;
  snap.gid = opts_.gid;
  snap.tags = opts_.tags;
  snap.program_version = opts_.program_version;

  // The parent: the newest snapshot of the same host and paths.
  trace::Span find_parent = phase("find parent");
  ASSIGN_OR_RETURN(auto all, repo_->LoadAllSnapshots());
  Item root;
  root.prev_loaded = true;
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (it->hostname == snap.hostname && it->paths == snap.paths) {
      snap.parent = it->id;
      auto tree = repo_->LoadTree(it->tree);
      if (tree.ok()) root.prev_tree = std::move(*tree);
      break;
    }
  }
  if (!snap.parent.empty()) find_parent.SetAttribute(semconv::kSnapshotParent, snap.parent);
  find_parent.End();

  process_span_ = phase("process files");
  unsigned threads = opts_.threads ? opts_.threads : std::max(1u, std::thread::hardware_concurrency());
  queues_ = std::make_unique<Queues>(threads);
  std::vector<std::thread> readers, savers;
  for (unsigned i = 0; i < threads; ++i) {
    readers.emplace_back([this] { ReaderLoop(); });
    savers.emplace_back([this] { SaverLoop(); });
  }
  Status scan_status;
  trace::Span scan = phase("scan");
  for (const auto& r : roots) {
    scan_status = ScanPath(&root, r);
    if (!scan_status.ok()) break;
  }
  progress_.scan_done = true;
  scan.SetAttribute(semconv::kFilesTotal, progress_.files_total.load());
  scan.SetAttribute(semconv::kBytesTotal, progress_.bytes_total.load());
  scan.RecordError(scan_status);
  scan.End();
  queues_->files.Close();
  for (auto& t : readers) t.join();
  queues_->blobs.Close();
  for (auto& t : savers) t.join();
  process_span_.SetAttribute(semconv::kBytesRead, progress_.bytes_read.load());
  process_span_.RecordError(failed_ ? first_failure_ : Status::Ok());
  process_span_.End();
  if (!scan_status.ok()) return scan_status;
  if (failed_) return first_failure_;

  ASSIGN_OR_RETURN(snap.tree,
                   trace::InChildSpan(job, "write trees", [&](trace::Span&) { return SaveTrees(&root, true); }));
  RETURN_IF_ERROR(trace::InChildSpan(job, "write index", [&](trace::Span&) { return repo_->Flush(); }));

  BackupSummary& s = snap.summary;
  s.files_new = files_new_;
  s.files_changed = files_changed_;
  s.files_unmodified = files_unmodified_;
  s.dirs_new = dirs_new_;
  s.dirs_changed = dirs_changed_;
  s.dirs_unmodified = dirs_unmodified_;
  s.data_blobs = repo_->blobs_added(BlobType::kData) - data_blobs_before;
  s.tree_blobs = repo_->blobs_added(BlobType::kTree) - tree_blobs_before;
  s.total_files = progress_.files_total;
  s.total_bytes = progress_.bytes_total;
  s.bytes_read = progress_.bytes_read;
  s.bytes_added = repo_->bytes_added() - added_before;
  s.bytes_stored = repo_->bytes_written() - written_before;
  s.errors = progress_.errors;
  s.duration_s = static_cast<double>(env_->MonotonicNanos() - start_mono) / 1e9;
  ASSIGN_OR_RETURN(snap.id, trace::InChildSpan(job, "save snapshot", [&](trace::Span& save) {
    auto id = repo_->SaveSnapshot(snap);
    if (id.ok()) save.SetAttribute(semconv::kSnapshotId, *id);
    return id;
  }));

  BackupResult result;
  result.bytes_new = bytes_new_;
  result.bytes_changed = bytes_changed_;
  result.bytes_unmodified = bytes_unmodified_;
  result.snapshot = std::move(snap);
  std::lock_guard lock(issues_mu_);
  result.issues = std::move(issues_);
  return result;
}

}  // namespace backspan
