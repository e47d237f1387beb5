#include "repository/repository.h"

#include <sodium.h>

#include <algorithm>
#include <set>

#include "repository/deletion_mark.h"
#include "repository/object_aad.h"
#include "util/interrupt.h"

namespace backspan {

Repository::Repository(std::unique_ptr<Backend> backend, Env* env, const MasterKey& key,
                       Config config, std::string key_id)
    : backend_(std::move(backend)), env_(env), key_(key), config_(std::move(config)),
      key_id_(std::move(key_id)), chunker_(config_.chunker, config_.chunker_key),
      packers_(backend_.get(), &key_, &index_, &bytes_written_) {
  last_checkpoint_ns_ = env_->MonotonicNanos();
}

Repository::~Repository() {
  sodium_memzero(&key_, sizeof key_);
}

Result<std::unique_ptr<Repository>> Repository::Init(std::unique_ptr<Backend> backend, Env* env,
                                                     const std::string& password,
                                                     const ChunkerParams& chunker,
                                                     const std::string& hostname,
                                                     const std::string& username) {
  if (!ValidChunkerParams(chunker)) return Status::InvalidArgument("invalid chunker sizes");
  if (password.empty()) return Status::InvalidArgument("an empty password is not allowed");
  RETURN_IF_ERROR(backend->Create());
  MasterKey key{crypto::RandomKey(), crypto::RandomKey()};
  Config config = NewConfig(chunker);
  ASSIGN_OR_RETURN(KeyFile kf, NewKeyFile(key, password, hostname, username, env->NowUnixNanos()));
  Bytes key_bytes = SerializeKeyFile(kf);
  std::string key_id = HexEncode(crypto::Sha256(key_bytes));
  // The key goes first and the config last: a repository without a config
  // file is not a repository, so an interrupted init leaves nothing usable.
  RETURN_IF_ERROR(backend->Save(FileType::kKey, key_id, key_bytes));
  RETURN_IF_ERROR(backend->Save(FileType::kConfig, "config", EncodeConfig(config, key)));
  return std::unique_ptr<Repository>(
      new Repository(std::move(backend), env, key, std::move(config), std::move(key_id)));
}

Status Damaged(const std::string& what, const Status& why, const char* remedy) {
  // The master key opened the repository, so an object that does not
  // authenticate was changed after it was written.
  return Status::Corruption(what + " is damaged (" + why.message() + "); " + remedy);
}

Result<std::unique_ptr<Repository>> Repository::Open(std::unique_ptr<Backend> backend, Env* env,
                                                     const std::string& password) {
  ASSIGN_OR_RETURN(bool is_repo, backend->IsRepository());
  if (!is_repo)
    return Status::NotARepository(backend->Location() +
                                  " is not a backspan repository (no config file); check --repo, "
                                  "or create one with 'backspan init'");
  ASSIGN_OR_RETURN(auto key_names, backend->List(FileType::kKey));
  Status damaged;
  for (const auto& name : key_names) {
    auto data = backend->Load(FileType::kKey, name);
    if (!data.ok()) return data.status();
    // A key file is named by the SHA-256 of its bytes: any change is damage,
    // whatever field it hit, not an unknown format or a wrong password.
    auto kf = HexEncode(crypto::Sha256(*data)) == name
                  ? ParseKeyFile(*data)
                  : Result<KeyFile>(Status::Corruption("its content does not match its name"));
    if (!kf.ok()) {
      damaged = kf.status().WithContext("key file keys/" + name.substr(0, 8) + " is damaged");
      continue;
    }
    auto key = UnlockKeyFile(*kf, password);
    if (!key.ok()) {
      if (key.status().code() != ErrorCode::kWrongPassword)
        damaged = key.status().WithContext("key file keys/" + name.substr(0, 8) + " is damaged");
      continue;
    }
    ASSIGN_OR_RETURN(Bytes sealed_config, backend->Load(FileType::kConfig, "config"));
    ASSIGN_OR_RETURN(Config config, DecodeConfig(sealed_config, *key));
    return std::unique_ptr<Repository>(
        new Repository(std::move(backend), env, *key, std::move(config), name));
  }
  if (!damaged.ok())
    return Status(damaged.code(), damaged.message() +
                                      "; no other key opens the repository with this password "
                                      "(restore the key file from a copy, or use another password)");
  if (key_names.empty()) return Status::Corruption("the repository has no key files (keys/ is empty)");
  return Status::WrongPassword("wrong password or no key found: no key file opens with this password");
}

Status Repository::LoadIndex(std::vector<IndexedPack>* packs_out, std::vector<std::string>* files_out,
                             std::vector<std::string>* damaged) {
  // A prune running alongside replaces index files: it writes the new ones
  // before it removes the old, so a file that vanished between listing and
  // loading means a newer listing has its replacement.
  std::set<std::string> loaded;
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(auto names, backend_->List(FileType::kIndex));
    bool vanished = false;
    for (const auto& name : names) {
      if (loaded.count(name)) continue;
      if (InterruptRequested()) return InterruptedStatus("loading the index");
      auto plain = LoadSealed(FileType::kIndex, name);
      if (!plain.ok() && plain.status().code() == ErrorCode::kNotFound && attempt < 5) {
        vanished = true;
        continue;
      }
      auto packs = plain.ok() ? DecodeIndexFile(*plain) : Result<std::vector<IndexedPack>>(plain.status());
      if (plain.ok() && !packs.ok()) packs = Damaged("index/" + name.substr(0, 8), packs.status(), kRepairIndexRemedy);
      if (!packs.ok()) {
        const Status& why = packs.status();
        if (!damaged || why.code() != ErrorCode::kCorruption) return why;
        damaged->push_back(why.message());
        loaded.insert(name);
        continue;
      }
      for (auto& p : *packs) {
        if (packs_out) packs_out->push_back(p);
        index_.AddSavedPack(std::move(p));
      }
      loaded.insert(name);
      if (files_out) files_out->push_back(name);
    }
    if (!vanished) return Status::Ok();
  }
}

Result<std::vector<std::string>> Repository::WriteIndexFiles(const std::vector<IndexedPack>& packs) {
  constexpr size_t kPacksPerIndexFile = 4096;
  std::vector<std::string> names;
  for (size_t i = 0; i < packs.size(); i += kPacksPerIndexFile) {
    std::vector<IndexedPack> part(packs.begin() + static_cast<ptrdiff_t>(i),
                                  packs.begin() + static_cast<ptrdiff_t>(std::min(packs.size(), i + kPacksPerIndexFile)));
    ASSIGN_OR_RETURN(std::string name, SaveSealed(FileType::kIndex, EncodeIndexFile(part)));
    names.push_back(std::move(name));
  }
  return names;
}

Status Repository::LoadIndexForWriting(std::vector<std::string>* damaged) {
  ASSIGN_OR_RETURN(auto mark_names, backend_->List(FileType::kDeletion));
  std::set<PackId> marked;
  for (const auto& name : mark_names) {
    auto plain = LoadSealed(FileType::kDeletion, name);
    if (!plain.ok() && plain.status().code() == ErrorCode::kNotFound) continue;  // finished meanwhile
    if (!plain.ok()) return plain.status();
    ASSIGN_OR_RETURN(DeletionMark mark, DecodeDeletionMark(*plain));
    for (const auto& p : mark.packs) marked.insert(p.id);
  }
  std::vector<IndexedPack> packs;
  RETURN_IF_ERROR(LoadIndex(&packs, nullptr, damaged));
  if (marked.empty()) return Status::Ok();
  index_.Clear();
  for (auto& p : packs)
    if (!marked.count(p.id)) index_.AddSavedPack(std::move(p));
  return Status::Ok();
}

BlobId Repository::HashBlob(ByteView plaintext) const {
  BlobId id;
  id.bytes = crypto::HmacSha256(key_.id_key, plaintext);
  return id;
}

Result<bool> Repository::SaveBlob(BlobType type, const BlobId& id, ByteView plaintext,
                                  CompressionMode mode) {
  if (!index_.Reserve(id)) return false;
  thread_local Bytes scratch;
  size_t compressed = CompressBlob(mode, plaintext, &scratch);
  ByteView payload = compressed ? ByteView(scratch.data(), compressed) : plaintext;
  RETURN_IF_ERROR(packers_.Add(type, id, compressed > 0, static_cast<uint32_t>(plaintext.size()), payload));
  bytes_added_ += plaintext.size();
  ++blobs_added_[static_cast<int>(type)];
  return true;
}

void Repository::EnableReadAhead(uint64_t window, size_t capacity) {
  read_ahead_ = std::make_unique<ReadAhead>(window, capacity);
}

Result<Bytes> Repository::LoadBlob(const BlobId& id) {
  auto loc = index_.Lookup(id);
  if (!loc) return Status::NotFound("blob " + id.ShortHex() + " is not in the index");
  return LoadBlobAt(id, *loc);
}

Result<Bytes> Repository::LoadPayload(const BlobId& id, const BlobLocation& loc) {
  const PackEntry& e = loc.entry;
  std::string where = "blob " + id.ShortHex() + " in pack " + loc.pack.ShortHex();
  const bool tree = e.type == BlobType::kTree;
  auto sealed = read_ahead_ ? read_ahead_->Read(backend_.get(), loc.pack.Hex(), e.offset, e.length, loc.pack_data_end, tree)
                : tree      ? backend_->LoadTreeRange(loc.pack.Hex(), e.offset, e.length)
                            : backend_->Load(FileType::kPack, loc.pack.Hex(), e.offset, e.length);
  if (!sealed.ok()) return sealed.status().WithContext(where);
  return OpenPayload(id, loc, *sealed);
}

Result<Bytes> Repository::OpenPayload(const BlobId& id, const BlobLocation& loc, ByteView sealed) {
  const PackEntry& e = loc.entry;
  // The blob's type and id are authenticated with it, so a blob that
  // opens is the one asked for; check --read-data rehashes as well.
  auto plain = crypto::Open(key_.encryption, sealed, aad::Blob(e.type, id));
  if (!plain.ok()) return Damaged("blob " + id.ShortHex() + " in pack " + loc.pack.ShortHex(), plain.status());
  return plain;
}

Result<Bytes> Repository::OpenBlob(const BlobId& id, const BlobLocation& loc, ByteView sealed) {
  ASSIGN_OR_RETURN(Bytes plain, OpenPayload(id, loc, sealed));
  return Decompressed(id, loc, std::move(plain));
}

Status Repository::RepackBlob(const BlobId& id, const BlobLocation& loc) {
  ASSIGN_OR_RETURN(Bytes payload, LoadPayload(id, loc));
  const PackEntry& e = loc.entry;
  return packers_.Add(e.type, id, e.compressed, e.raw_length, payload);
}

Result<Bytes> Repository::LoadBlobAt(const BlobId& id, const BlobLocation& loc) {
  ASSIGN_OR_RETURN(Bytes plain, LoadPayload(id, loc));
  return Decompressed(id, loc, std::move(plain));
}

Result<Bytes> Repository::Decompressed(const BlobId& id, const BlobLocation& loc, Bytes plain) {
  const PackEntry& e = loc.entry;
  if (!e.compressed) return plain;
  auto data = DecompressBlob(plain, e.raw_length);
  if (!data.ok()) return data.status().WithContext("blob " + id.ShortHex() + " in pack " + loc.pack.ShortHex());
  return data;
}

Result<BlobId> Repository::SaveTree(const Tree& tree, CompressionMode mode) {
  Bytes data = EncodeTree(tree);
  BlobId id = HashBlob(data);
  RETURN_IF_ERROR(SaveBlob(BlobType::kTree, id, data, mode).status());
  return id;
}

Result<Tree> Repository::LoadTree(const BlobId& id) {
  auto loc = index_.Lookup(id);
  if (!loc) return Status::NotFound("tree " + id.ShortHex() + " is not in the index");
  return LoadTreeAt(id, *loc);
}

Result<Tree> Repository::LoadTreeAt(const BlobId& id, const BlobLocation& loc) {
  ASSIGN_OR_RETURN(Bytes data, LoadBlobAt(id, loc));
  auto tree = DecodeTree(data);
  if (!tree.ok()) return tree.status().WithContext("tree " + id.ShortHex());
  return tree;
}

namespace {
ByteView FileAad(FileType type) {
  switch (type) {
    case FileType::kIndex: return aad::Of(aad::kIndex);
    case FileType::kLock: return aad::Of(aad::kLock);
    case FileType::kDeletion: return aad::Of(aad::kDeletion);
    default: return aad::Of(aad::kSnapshot);
  }
}
}  // namespace

Result<Bytes> Repository::LoadSealed(FileType type, const std::string& name) {
  ASSIGN_OR_RETURN(Bytes sealed, backend_->Load(type, name));
  auto plain = crypto::Open(key_.encryption, sealed, FileAad(type));
  if (!plain.ok())
    return Damaged(std::string(FileTypeDir(type)) + "/" + name.substr(0, 8), plain.status(),
                   type == FileType::kIndex ? kRepairIndexRemedy : kCheckRemedy);
  return plain;
}

Result<std::string> Repository::SaveSealed(FileType type, ByteView plaintext) {
  ByteView ad = FileAad(type);
  Bytes sealed = crypto::Seal(key_.encryption, plaintext, ad);
  std::string name = HexEncode(crypto::Sha256(sealed));
  RETURN_IF_ERROR(backend_->Save(type, name, sealed));
  bytes_written_ += sealed.size();
  return name;
}

Status Repository::WriteIndex() {
  std::lock_guard lock(index_write_mu_);
  auto packs = index_.TakeUnsaved();
  last_checkpoint_ns_ = env_->MonotonicNanos();
  if (packs.empty()) return Status::Ok();
  auto written = SaveSealed(FileType::kIndex, EncodeIndexFile(packs));
  if (!written.ok()) {
    for (auto& p : packs) index_.AddPack(std::move(p));  // keep them for the next attempt
    return written.status();
  }
  return Status::Ok();
}

Status Repository::Flush() {
  RETURN_IF_ERROR(packers_.Flush());
  return WriteIndex();
}

Status Repository::MaybeCheckpointIndex() {
  if (env_->MonotonicNanos() - last_checkpoint_ns_ < checkpoint_interval_ns_) return Status::Ok();
  return WriteIndex();
}

Result<std::string> Repository::SaveSnapshot(const Snapshot& snapshot) {
  return SaveSealed(FileType::kSnapshot, AsBytes(SnapshotToJson(snapshot, false)));
}

Result<Snapshot> Repository::LoadSnapshot(const std::string& id) {
  ASSIGN_OR_RETURN(Bytes sealed, backend_->Load(FileType::kSnapshot, id));
  auto plain = crypto::Open(key_.encryption, sealed, aad::Of(aad::kSnapshot));
  if (!plain.ok()) return Damaged("snapshot " + id.substr(0, 8), plain.status());
  auto s = SnapshotFromJson(*plain);
  if (!s.ok()) return s.status().WithContext("snapshot " + id.substr(0, 8));
  s->id = id;
  return s;
}

Result<std::vector<Snapshot>> Repository::LoadAllSnapshots(bool vanished_is_error) {
  ASSIGN_OR_RETURN(auto names, backend_->List(FileType::kSnapshot));
  std::vector<Snapshot> out;
  out.reserve(names.size());
  for (const auto& name : names) {
    if (InterruptRequested()) return InterruptedStatus("loading the snapshots");
    auto s = LoadSnapshot(name);
    if (!s.ok() && s.status().code() == ErrorCode::kNotFound && !vanished_is_error) continue;
    if (!s.ok()) return s.status();
    out.push_back(std::move(*s));
  }
  std::sort(out.begin(), out.end(), [](const Snapshot& a, const Snapshot& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.id < b.id;
  });
  return out;
}

Result<Snapshot> Repository::FindSnapshot(const std::string& spec,
                                          const std::vector<std::string>& tags,
                                          const std::string& host) {
  if (spec == "latest") {
    ASSIGN_OR_RETURN(auto all, LoadAllSnapshots());
    for (auto it = all.rbegin(); it != all.rend(); ++it)
      if (it->Matches(tags, host)) return std::move(*it);
    return Status::NotFound("no snapshot found for 'latest'" +
                            std::string(tags.empty() && host.empty() ? "" : " with these filters") +
                            "; run 'backspan backup' first");
  }
  if (spec.empty() || spec.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Status::InvalidArgument("'" + spec + "' is not a snapshot id, id prefix or 'latest'");
  ASSIGN_OR_RETURN(auto names, backend_->List(FileType::kSnapshot));
  std::vector<std::string> matches;
  for (const auto& n : names)
    if (n.rfind(spec, 0) == 0) matches.push_back(n);
  if (matches.empty())
    return Status::NotFound("no snapshot with id '" + spec +
                            "'; run 'backspan snapshots' to list them");
  if (matches.size() > 1)
    return Status::Ambiguous("snapshot id prefix '" + spec + "' matches " +
                             std::to_string(matches.size()) + " snapshots; give more characters");
  return LoadSnapshot(matches[0]);
}

Result<std::string> Repository::AddKey(const std::string& password, const std::string& hostname,
                                       const std::string& username) {
  if (password.empty()) return Status::InvalidArgument("an empty password is not allowed");
  ASSIGN_OR_RETURN(KeyFile kf, NewKeyFile(key_, password, hostname, username, env_->NowUnixNanos()));
  Bytes bytes = SerializeKeyFile(kf);
  std::string id = HexEncode(crypto::Sha256(bytes));
  RETURN_IF_ERROR(backend_->Save(FileType::kKey, id, bytes));
  return id;
}

Result<std::vector<KeyInfo>> Repository::ListKeys() {
  ASSIGN_OR_RETURN(auto names, backend_->List(FileType::kKey));
  std::vector<KeyInfo> out;
  for (const auto& name : names) {
    ASSIGN_OR_RETURN(Bytes data, backend_->Load(FileType::kKey, name));
    auto kf = ParseKeyFile(data);
    if (!kf.ok()) return kf.status().WithContext("key file keys/" + name);
    out.push_back({name, std::move(*kf), name == key_id_});
  }
  std::sort(out.begin(), out.end(),
            [](const KeyInfo& a, const KeyInfo& b) { return a.file.created_ns < b.file.created_ns; });
  return out;
}

Status Repository::RemoveKey(const std::string& id_or_prefix) {
  ASSIGN_OR_RETURN(auto names, backend_->List(FileType::kKey));
  std::vector<std::string> matches;
  for (const auto& n : names)
    if (!id_or_prefix.empty() && n.rfind(id_or_prefix, 0) == 0) matches.push_back(n);
  if (matches.empty()) return Status::NotFound("no key with id '" + id_or_prefix + "'; run 'backspan key list'");
  if (matches.size() > 1) return Status::Ambiguous("key id prefix '" + id_or_prefix + "' is ambiguous");
  if (matches[0] == key_id_)
    return Status::InvalidArgument("refusing to remove the key in use; open the repository with another password to remove it");
  return backend_->Remove(FileType::kKey, matches[0]);
}

}  // namespace backspan
