#include "backend/local/local_backend.h"

#include <functional>

#include "crypto/crypto.h"
#include "util/hex.h"

namespace backspan {
namespace {

bool IsTemporary(const std::string& name) { return name.find(".tmp-") != std::string::npos; }

}  // namespace

LocalBackend::LocalBackend(Env* env, std::string root) : env_(env), root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string LocalBackend::PathOf(FileType type, const std::string& name) const {
  if (type == FileType::kConfig) return root_ + "/config";
  std::string dir = root_ + "/" + FileTypeDir(type);
  if (type == FileType::kPack && name.size() >= 2) return dir + "/" + name.substr(0, 2) + "/" + name;
  return dir + "/" + name;
}

Status LocalBackend::Create() {
  if (env_->Exists(root_ + "/config"))
    return Status::AlreadyExists("a repository already exists at " + root_);
  if (env_->Exists(root_)) {
    ASSIGN_OR_RETURN(auto entries, env_->ReadDir(root_));
    if (!entries.empty())
      return Status::AlreadyExists(root_ + " exists and is not empty; choose an empty or new directory");
  }
  RETURN_IF_ERROR(CreateDirs(env_, root_));
  for (FileType t : {FileType::kKey, FileType::kPack, FileType::kIndex, FileType::kSnapshot,
                     FileType::kLock, FileType::kDeletion})
    RETURN_IF_ERROR(env_->CreateDir(root_ + "/" + FileTypeDir(t)));
  for (int i = 0; i < 256; ++i) {
    uint8_t b = static_cast<uint8_t>(i);
    RETURN_IF_ERROR(env_->CreateDir(root_ + "/data/" + HexEncode({&b, 1})));
  }
  return env_->SyncDir(root_);
}

Result<bool> LocalBackend::IsRepository() { return env_->Exists(root_ + "/config"); }

Status LocalBackend::Save(FileType type, const std::string& name, ByteView data) {
  std::string path = PathOf(type, name);
  // Pack subdirectories, and directories of file types newer than the
  // repository, appear on first use.
  if ((type == FileType::kPack || type == FileType::kDeletion) &&
      !env_->Exists(path.substr(0, path.rfind('/')))) {
    RETURN_IF_ERROR(env_->CreateDir(path.substr(0, path.rfind('/'))));
  }
  return WriteFileAtomic(env_, path, data);
}

namespace {

class LocalPendingFile final : public PendingFile {
 public:
  LocalPendingFile(Env* env, std::unique_ptr<WritableFile> file, std::string tmp,
                   std::function<std::string(const std::string&)> final_path)
      : env_(env), file_(std::move(file)), tmp_(std::move(tmp)), final_path_(std::move(final_path)) {}
  ~LocalPendingFile() override {
    if (file_) {
      (void)file_->Close();
      (void)env_->Remove(tmp_);
    }
  }
  Status Append(ByteView data) override { return file_->Append(data); }
  Status Commit(const std::string& name) override {
    std::string path = final_path_(name);
    Status st = file_->Sync();
    Status close_st = file_->Close();
    file_.reset();
    if (st.ok()) st = close_st;
    std::string dir = path.substr(0, path.rfind('/'));
    if (st.ok() && !env_->Exists(dir)) st = env_->CreateDir(dir);
    if (st.ok()) st = env_->Rename(tmp_, path);
    if (!st.ok()) {
      (void)env_->Remove(tmp_);
      return st;
    }
    return env_->SyncDir(dir);
  }

 private:
  Env* env_;
  std::unique_ptr<WritableFile> file_;
  std::string tmp_;
  std::function<std::string(const std::string&)> final_path_;
};

}  // namespace

Result<std::unique_ptr<PendingFile>> LocalBackend::Begin(FileType type) {
  std::string tmp = root_ + "/" + FileTypeDir(type) + "/.tmp-" + HexEncode(crypto::RandomKey()).substr(0, 24);
  WriteHint hint = type == FileType::kPack ? WriteHint::kStreamOnce : WriteHint::kDefault;
  ASSIGN_OR_RETURN(auto file, env_->NewWritableFile(tmp, hint));
  return std::unique_ptr<PendingFile>(new LocalPendingFile(
      env_, std::move(file), tmp, [this, type](const std::string& name) { return PathOf(type, name); }));
}

Result<Bytes> LocalBackend::Load(FileType type, const std::string& name, uint64_t offset,
                                 uint64_t length) {
  std::string path = PathOf(type, name);
  if (offset == 0 && length == 0) return ReadWholeFile(env_, path);
  std::shared_ptr<ReadableFile> file;
  if (type == FileType::kPack) {
    ASSIGN_OR_RETURN(file, OpenPack(name));
  } else {
    ASSIGN_OR_RETURN(file, env_->OpenForRead(path));
  }
  Bytes out(length);
  size_t got = 0;
  while (got < length) {
    ASSIGN_OR_RETURN(size_t n, file->ReadAt(offset + got, out.data() + got, length - got));
    if (n == 0) return Status::Corruption("short read from " + path + ": file is truncated");
    got += n;
  }
  return out;
}

Result<std::shared_ptr<ReadableFile>> LocalBackend::OpenPack(const std::string& name) {
  constexpr size_t kMaxOpenPacks = 32;
  {
    std::lock_guard lock(open_packs_mu_);
    for (auto it = open_packs_.begin(); it != open_packs_.end(); ++it) {
      if (it->first == name) {
        open_packs_.splice(open_packs_.begin(), open_packs_, it);
        return it->second;
      }
    }
  }
  ASSIGN_OR_RETURN(auto opened, env_->OpenForRead(PathOf(FileType::kPack, name)));
  std::shared_ptr<ReadableFile> file(std::move(opened));
  std::lock_guard lock(open_packs_mu_);
  open_packs_.emplace_front(name, file);
  if (open_packs_.size() > kMaxOpenPacks) open_packs_.pop_back();
  return file;
}

Result<uint64_t> LocalBackend::Size(FileType type, const std::string& name) {
  ASSIGN_OR_RETURN(FileInfo info, env_->Lstat(PathOf(type, name)));
  return info.size;
}

Result<std::vector<std::string>> LocalBackend::List(FileType type) {
  std::vector<std::string> names;
  if (type == FileType::kConfig) {
    if (env_->Exists(root_ + "/config")) names.push_back("config");
    return names;
  }
  std::string dir = root_ + "/" + FileTypeDir(type);
  if (type == FileType::kDeletion && !env_->Exists(dir)) return names;
  ASSIGN_OR_RETURN(auto entries, env_->ReadDir(dir));
  for (auto& e : entries) {
    if (IsTemporary(e.name)) continue;
    if (type != FileType::kPack) {
      names.push_back(std::move(e.name));
      continue;
    }
    ASSIGN_OR_RETURN(auto packs, env_->ReadDir(dir + "/" + e.name));
    for (auto& p : packs)
      if (!IsTemporary(p.name)) names.push_back(std::move(p.name));
  }
  return names;
}

Result<std::vector<Leftover>> LocalBackend::ListLeftovers() {
  std::vector<Leftover> out;
  std::vector<std::string> dirs = {""};
  for (FileType t : {FileType::kKey, FileType::kIndex, FileType::kSnapshot, FileType::kLock, FileType::kDeletion,
                     FileType::kPack})
    dirs.push_back(std::string(FileTypeDir(t)) + "/");
  for (size_t i = 0; i < dirs.size(); ++i) {
    const std::string dir = root_ + "/" + dirs[i];
    if (!env_->Exists(dir)) continue;
    ASSIGN_OR_RETURN(auto entries, env_->ReadDir(dir));
    for (const auto& e : entries) {
      const std::string rel = dirs[i] + e.name;
      if (IsTemporary(e.name)) {
        auto info = env_->Lstat(root_ + "/" + rel);
        if (!info.ok()) continue;  // finished meanwhile
        out.push_back({rel, info->size, info->mtime_ns});
      } else if (dirs[i] == "data/" && e.name.size() == 2) {
        dirs.push_back(rel + "/");  // a pack directory
      }
    }
  }
  return out;
}

Status LocalBackend::RemoveLeftover(const std::string& name) {
  if (!IsTemporary(name) || name.find("..") != std::string::npos || name.find('/') == 0)
    return Status::InvalidArgument("'" + name + "' is not a leftover of this repository");
  return env_->Remove(root_ + "/" + name);
}

Status LocalBackend::Remove(FileType type, const std::string& name) {
  if (type == FileType::kPack) {
    std::lock_guard lock(open_packs_mu_);
    open_packs_.remove_if([&](const auto& entry) { return entry.first == name; });
  }
  return env_->Remove(PathOf(type, name));
}

}  // namespace backspan
