#include "backend/forwarding_backend.h"
#include "backend/cache/cached_backend.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <set>

#include "crypto/crypto.h"
#include "util/hex.h"

namespace backspan {

std::string DefaultCacheDir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/backspan";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/backspan";
  return "";
}

namespace {

bool Cacheable(FileType type) {
  return type == FileType::kKey || type == FileType::kIndex || type == FileType::kSnapshot;
}

bool Matches(ByteView data, const std::string& name) { return HexEncode(crypto::Sha256(data)) == name; }

class CachedBackend final : public ForwardingBackend {
 public:
  CachedBackend(std::unique_ptr<Backend> base, const std::string& dir, Env* env)
      : ForwardingBackend(std::move(base)), env_(env) {
    const std::string location = inner()->Location();
    dir_ = dir + "/" + HexEncode(crypto::Sha256(AsBytes(location))).substr(0, 24);
  }


  Status Save(FileType type, const std::string& name, ByteView data) override {
    RETURN_IF_ERROR(inner()->Save(type, name, data));
    if (Cacheable(type)) Store(type, name, data);  // what we wrote, we will read
    return Status::Ok();
  }

  Result<Bytes> Load(FileType type, const std::string& name, uint64_t offset, uint64_t length) override {
    if (!Cacheable(type) || offset != 0 || length != 0) return inner()->Load(type, name, offset, length);
    if (auto cached = Read(type, name)) return std::move(*cached);
    ASSIGN_OR_RETURN(Bytes data, inner()->Load(type, name, 0, 0));
    if (Matches(data, name)) Store(type, name, data);
    return data;
  }

  Result<Bytes> LoadTreeRange(const std::string& pack, uint64_t offset, uint64_t length) override {
    if (!CachedPack(pack)) {
      // One thread fetches a pack; the others wait for it.
      std::shared_ptr<std::mutex> fetching;
      {
        std::lock_guard lock(mu_);
        auto& m = fetching_[pack];
        if (!m) m = std::make_shared<std::mutex>();
        fetching = m;
      }
      std::lock_guard fetch_lock(*fetching);
      if (!CachedPack(pack)) {
        ASSIGN_OR_RETURN(Bytes whole, inner()->Load(FileType::kPack, pack, 0, 0));
        if (!Matches(whole, pack) || offset + length > whole.size())
          return inner()->Load(FileType::kPack, pack, offset, length);  // let the caller find the damage
        Store(FileType::kPack, pack, whole);
        std::lock_guard lock(mu_);
        verified_.insert(pack);
        return Bytes(whole.begin() + static_cast<ptrdiff_t>(offset), whole.begin() + static_cast<ptrdiff_t>(offset + length));
      }
    }
    auto file = env_->OpenForRead(PathOf(FileType::kPack, pack));
    Bytes out(length);
    size_t got = 0;
    while (file.ok() && got < length) {
      auto n = (*file)->ReadAt(offset + got, out.data() + got, length - got);
      if (!n.ok() || *n == 0) break;
      got += *n;
    }
    if (got == length) return out;
    Forget(FileType::kPack, pack);  // removed or cut short since it was verified
    return inner()->Load(FileType::kPack, pack, offset, length);
  }


  Result<std::vector<std::string>> List(FileType type) override {
    ASSIGN_OR_RETURN(auto names, inner()->List(type));
    if (Cacheable(type) || type == FileType::kPack) DropAllBut(type, names);
    return names;
  }

  Status Remove(FileType type, const std::string& name) override {
    Status st = inner()->Remove(type, name);
    if (Cacheable(type) || type == FileType::kPack) Forget(type, name);
    return st;
  }

  Result<std::vector<std::pair<std::string, uint64_t>>> ListSizes(FileType type) override {
    return inner()->ListSizes(type);
  }

 private:
  std::string PathOf(FileType type, const std::string& name) const {
    return dir_ + "/" + FileTypeDir(type) + "/" + name;
  }

  // A cached file, if it is there and hashes to its name.
  std::optional<Bytes> Read(FileType type, const std::string& name) {
    const std::string path = PathOf(type, name);
    if (!env_->Exists(path)) return std::nullopt;
    auto data = ReadWholeFile(env_, path);
    if (data.ok() && Matches(*data, name)) return std::move(*data);
    (void)env_->Remove(path);  // damaged or stale: fetch it again
    return std::nullopt;
  }

  bool CachedPack(const std::string& pack) {
    {
      std::lock_guard lock(mu_);
      if (verified_.count(pack)) return true;
    }
    // Verified once per run: hashing a pack on every tree read would cost
    // more than reading it.
    if (!Read(FileType::kPack, pack)) return false;
    std::lock_guard lock(mu_);
    verified_.insert(pack);
    return true;
  }

  // Best effort: a cache that cannot be written is only slower.
  void Store(FileType type, const std::string& name, ByteView data) {
    const std::string dir = dir_ + "/" + FileTypeDir(type);
    if (!CreateDirs(env_, dir).ok()) return;
    (void)WriteFileAtomic(env_, PathOf(type, name), data);
  }

  void Forget(FileType type, const std::string& name) {
    (void)env_->Remove(PathOf(type, name));
    std::lock_guard lock(mu_);
    verified_.erase(name);
  }

  // Removes cached files of `type` the repository no longer has (forgotten
  // snapshots, replaced index files, pruned packs).
  void DropAllBut(FileType type, const std::vector<std::string>& names) {
    const std::string dir = dir_ + "/" + FileTypeDir(type);
    if (!env_->Exists(dir)) return;
    auto entries = env_->ReadDir(dir);
    if (!entries.ok()) return;
    const std::set<std::string> keep(names.begin(), names.end());
    for (const auto& e : *entries)
      if (!keep.count(e.name)) Forget(type, e.name);
  }

  Env* env_;
  std::string dir_;
  std::mutex mu_;
  std::set<std::string> verified_;  // packs hashed this run
  std::map<std::string, std::shared_ptr<std::mutex>> fetching_;
};

}  // namespace

std::unique_ptr<Backend> NewCachedBackend(std::unique_ptr<Backend> inner, const std::string& dir, Env* env) {
  return std::make_unique<CachedBackend>(std::move(inner), dir, env);
}

}  // namespace backspan
