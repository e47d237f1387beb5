#include "backend/object/object_backend.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "crypto/crypto.h"
#include "util/hex.h"

namespace backspan::object {

ObjectBackend::ObjectBackend(std::unique_ptr<ObjectStore> store, std::string prefix, Env* env,
                             ObjectBackendOptions options)
    : store_(std::move(store)), prefix_(std::move(prefix)), env_(env), options_(std::move(options)) {
  while (!prefix_.empty() && prefix_.front() == '/') prefix_.erase(0, 1);
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  if (!prefix_.empty()) prefix_ += '/';
}

std::string ObjectBackend::DirKey(FileType type) const { return prefix_ + FileTypeDir(type) + "/"; }

std::string ObjectBackend::KeyOf(FileType type, const std::string& name) const {
  if (type == FileType::kConfig) return prefix_ + "config";
  if (type == FileType::kPack && name.size() >= 2) return DirKey(type) + name.substr(0, 2) + "/" + name;
  return DirKey(type) + name;
}

Status ObjectBackend::Create() {
  RETURN_IF_ERROR(store_->CreateContainer());
  ASSIGN_OR_RETURN(bool exists, IsRepository());
  if (exists) return Status::AlreadyExists("a repository already exists at " + Location());
  bool any = false;
  RETURN_IF_ERROR(store_->List(prefix_, [&](const ObjectInfo&) { any = true; }));
  if (any)
    return Status::AlreadyExists(Location() + " holds other objects; choose an empty container or a new prefix");
  return Status::Ok();
}

Result<bool> ObjectBackend::IsRepository() {
  auto size = store_->Size(prefix_ + "config");
  if (size.ok()) return true;
  if (size.status().code() == ErrorCode::kNotFound) return false;
  return size.status();
}

Status ObjectBackend::AlreadyStored(FileType type, const std::string& name, const Status& conflict) {
  if (type == FileType::kConfig) return Status::AlreadyExists("a repository already exists at " + Location());
  ASSIGN_OR_RETURN(Bytes stored, store_->Get(KeyOf(type, name), 0, 0));
  if (HexEncode(crypto::Sha256(stored)) == name) return Status::Ok();
  return Status::Corruption(KeyOf(type, name) + " exists with other content than its name says (" +
                            conflict.message() + "); run 'backspan check'");
}

Status ObjectBackend::Upload(FileType type, const std::string& name, const net::BodySource& body) {
  const std::string key = KeyOf(type, name);
  const size_t part = store_->PartSize();
  Status st;
  if (body.size <= part) {
    net::BodySource whole = body;
    if (type != FileType::kConfig) whole.sha256_hex = name;  // every other file is named by its hash
    st = store_->Put(key, whole, true);
  } else {
    ASSIGN_OR_RETURN(auto upload, store_->StartUpload(key));
    const int parts = static_cast<int>((body.size + part - 1) / part);
    std::atomic<int> next{0};
    std::mutex mu;
    Status first_error;
    auto worker = [&] {
      for (int i = next++; i < parts; i = next++) {
        {
          std::lock_guard lock(mu);
          if (!first_error.ok()) return;
        }
        // Part i is its own body: a window on the object's.
        const uint64_t base = static_cast<uint64_t>(i) * part;
        net::BodySource piece;
        piece.size = std::min<uint64_t>(part, body.size - base);
        piece.read = [&body, base](uint64_t offset, uint8_t* dst, size_t length) {
          return body.read(base + offset, dst, length);
        };
        Status s = upload->UploadPart(i, piece);
        if (!s.ok()) {
          std::lock_guard lock(mu);
          if (first_error.ok()) first_error = s;
        }
      }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < std::min(parts, options_.parallel_parts); ++t) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();
    st = first_error.ok() ? upload->Complete(parts, true) : first_error;
    if (!st.ok()) upload->Abort();
  }
  if (st.code() == ErrorCode::kAlreadyExists) return AlreadyStored(type, name, st);
  return st;
}

Status ObjectBackend::Save(FileType type, const std::string& name, ByteView data) {
  return Upload(type, name, net::BodySource::Of(data));
}

namespace {

// A file whose name is known only when it is complete: it waits in an
// unlinked temporary file (gone with the process, however it ends), then
// is sent from there a piece at a time.
class SpilledFile final : public PendingFile {
 public:
  SpilledFile(ObjectBackend* backend, FileType type, std::unique_ptr<WritableFile> out,
              std::unique_ptr<ReadableFile> in)
      : backend_(backend), type_(type), out_(std::move(out)), in_(std::move(in)) {}
  ~SpilledFile() override {
    if (out_) (void)out_->Close();
  }
  Status Append(ByteView data) override {
    size_ += data.size();
    return out_->Append(data);
  }
  Status Commit(const std::string& name) override {
    Status st = out_->Close();
    out_.reset();
    RETURN_IF_ERROR(st.WithContext("writing the temporary file of " + name));
    std::mutex read_mu;  // ReadableFile is read by one thread at a time
    net::BodySource body;
    body.size = size_;
    body.read = [&](uint64_t offset, uint8_t* dst, size_t length) -> Status {
      std::lock_guard lock(read_mu);
      size_t got = 0;
      while (got < length) {
        ASSIGN_OR_RETURN(size_t n, in_->ReadAt(offset + got, dst + got, length - got));
        if (n == 0) return Status::IOError("the temporary file of " + name + " is shorter than written");
        got += n;
      }
      return Status::Ok();
    };
    return backend_->Upload(type_, name, body);
  }

 private:
  ObjectBackend* backend_;
  FileType type_;
  std::unique_ptr<WritableFile> out_;
  std::unique_ptr<ReadableFile> in_;
  uint64_t size_ = 0;
};

}  // namespace

Result<std::unique_ptr<PendingFile>> ObjectBackend::Begin(FileType type) {
  const std::string path = options_.spill_dir + "/backspan-upload-" + HexEncode(crypto::RandomKey()).substr(0, 24);
  auto out = env_->NewWritableFile(path, WriteHint::kDefault);
  if (!out.ok()) return out.status().WithContext("a temporary file for an upload (TMPDIR)");
  auto in = env_->OpenForRead(path);
  (void)env_->Remove(path);  // open until the upload is done, and no longer
  if (!in.ok()) return in.status();
  return std::unique_ptr<PendingFile>(new SpilledFile(this, type, std::move(*out), std::move(*in)));
}

Result<Bytes> ObjectBackend::Load(FileType type, const std::string& name, uint64_t offset, uint64_t length) {
  ASSIGN_OR_RETURN(Bytes data, store_->Get(KeyOf(type, name), offset, length));
  // A whole small file named by its hash is checked against it: a body cut
  // short under an honest-looking Content-Length is read again once; what
  // is still wrong is the caller's to report as damage. (Packs are read
  // whole only by check, which hashes them itself and reads again.)
  if (offset == 0 && length == 0 && type != FileType::kConfig && type != FileType::kPack &&
      HexEncode(crypto::Sha256(data)) != name)
    return store_->Get(KeyOf(type, name), 0, 0);
  return data;
}

Result<uint64_t> ObjectBackend::Size(FileType type, const std::string& name) {
  return store_->Size(KeyOf(type, name));
}

Result<std::vector<std::pair<std::string, uint64_t>>> ObjectBackend::ListSizes(FileType type) {
  std::vector<std::pair<std::string, uint64_t>> out;
  if (type == FileType::kConfig) {
    auto size = store_->Size(prefix_ + "config");
    if (size.ok()) out.emplace_back("config", *size);
    else if (size.status().code() != ErrorCode::kNotFound) return size.status();
    return out;
  }
  const std::string dir = DirKey(type);
  RETURN_IF_ERROR(store_->List(dir, [&](const ObjectInfo& o) {
    std::string rest = o.key.substr(dir.size());
    if (type == FileType::kPack) {
      // data/<xx>/<id>: anything else under data/ is not a pack.
      if (rest.size() < 4 || rest[2] != '/' || rest.compare(0, 2, rest, 3, 2) != 0) return;
      rest = rest.substr(3);
    }
    if (rest.empty() || rest.find('/') != std::string::npos) return;
    out.emplace_back(std::move(rest), o.size);
  }));
  return out;
}

Result<std::vector<std::string>> ObjectBackend::List(FileType type) {
  ASSIGN_OR_RETURN(auto sized, ListSizes(type));
  std::vector<std::string> names;
  names.reserve(sized.size());
  for (auto& [name, size] : sized) names.push_back(std::move(name));
  return names;
}

Status ObjectBackend::Remove(FileType type, const std::string& name) {
  // S3 cannot tell a removal of what is not there from one of what is:
  // both are done (every caller treats NotFound as done, too).
  return store_->Delete(KeyOf(type, name));
}

namespace {
constexpr std::string_view kUploadSep = "?uploadId=";
}

Result<std::vector<Leftover>> ObjectBackend::ListLeftovers() {
  ASSIGN_OR_RETURN(auto unfinished, store_->ListUnfinished(prefix_));
  std::vector<Leftover> out;
  for (const auto& u : unfinished) out.push_back({u.key + std::string(kUploadSep) + u.upload_id, 0, u.started_ns});
  return out;
}

Status ObjectBackend::RemoveLeftover(const std::string& name) {
  const size_t sep = name.rfind(kUploadSep);
  if (sep == std::string::npos || name.compare(0, prefix_.size(), prefix_) != 0)
    return Status::InvalidArgument("'" + name + "' is not a leftover of this repository");
  return store_->AbortUnfinished({name.substr(0, sep), name.substr(sep + kUploadSep.size()), 0});
}

Status ObjectBackend::CheckRemovable() {
  // Removing an object that does not exist needs the same right as
  // removing one that does, and changes nothing.
  Status st = store_->Delete(DirKey(FileType::kLock) + ".probe-" + HexEncode(crypto::RandomKey()).substr(0, 16));
  if (st.code() == ErrorCode::kPermissionDenied)
    return Status::PermissionDenied("the credentials for " + Location() +
                                    " may not delete (append-only): forget and prune need credentials that may; "
                                    "nothing was changed");
  return st;
}

}  // namespace backspan::object
