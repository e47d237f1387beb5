#include "backend/local/local_backend.h"

#include "util/hex.h"

namespace backspan {

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
  // Create parents as needed (like mkdir -p).
  for (size_t pos = 1; (pos = root_.find('/', pos)) != std::string::npos; ++pos)
    RETURN_IF_ERROR(env_->CreateDir(root_.substr(0, pos)));
  RETURN_IF_ERROR(env_->CreateDir(root_));
  for (FileType t : {FileType::kKey, FileType::kPack, FileType::kIndex, FileType::kSnapshot,
                     FileType::kLock})
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
  if (type == FileType::kPack && !env_->Exists(path.substr(0, path.rfind('/')))) {
    RETURN_IF_ERROR(env_->CreateDir(path.substr(0, path.rfind('/'))));
  }
  return WriteFileAtomic(env_, path, data);
}

Result<Bytes> LocalBackend::Load(FileType type, const std::string& name, uint64_t offset,
                                 uint64_t length) {
  std::string path = PathOf(type, name);
  if (offset == 0 && length == 0) return ReadWholeFile(env_, path);
  ASSIGN_OR_RETURN(auto file, env_->OpenForRead(path));
  Bytes out(length);
  size_t got = 0;
  while (got < length) {
    ASSIGN_OR_RETURN(size_t n, file->ReadAt(offset + got, out.data() + got, length - got));
    if (n == 0) return Status::Corruption("short read from " + path + ": file is truncated");
    got += n;
  }
  return out;
}

Result<uint64_t> LocalBackend::Size(FileType type, const std::string& name) {
  ASSIGN_OR_RETURN(FileInfo info, env_->Lstat(PathOf(type, name)));
  return info.size;
}

static bool IsTemporary(const std::string& name) { return name.find(".tmp-") != std::string::npos; }

Result<std::vector<std::string>> LocalBackend::List(FileType type) {
  std::vector<std::string> names;
  if (type == FileType::kConfig) {
    if (env_->Exists(root_ + "/config")) names.push_back("config");
    return names;
  }
  std::string dir = root_ + "/" + FileTypeDir(type);
  ASSIGN_OR_RETURN(auto entries, env_->ReadDir(dir));
  for (auto& e : entries) {
    if (type != FileType::kPack) {
      if (!IsTemporary(e.name)) names.push_back(std::move(e.name));
      continue;
    }
    ASSIGN_OR_RETURN(auto packs, env_->ReadDir(dir + "/" + e.name));
    for (auto& p : packs)
      if (!IsTemporary(p.name)) names.push_back(std::move(p.name));
  }
  return names;
}

Status LocalBackend::Remove(FileType type, const std::string& name) {
  return env_->Remove(PathOf(type, name));
}

}  // namespace backspan
