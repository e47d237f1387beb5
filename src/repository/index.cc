#include "repository/index.h"

#include <algorithm>

#include "util/encoding.h"

namespace backspan {

std::optional<BlobLocation> Index::Lookup(const BlobId& id) const {
  std::lock_guard lock(mu_);
  auto it = blobs_.find(id);
  if (it == blobs_.end()) return std::nullopt;
  return BlobLocation{packs_[it->second.pack], it->second.entry, pack_data_end_[it->second.pack]};
}

bool Index::Has(const BlobId& id) const {
  std::lock_guard lock(mu_);
  return blobs_.count(id) > 0;
}

bool Index::Reserve(const BlobId& id) {
  std::lock_guard lock(mu_);
  if (blobs_.count(id)) return false;
  return reserved_.insert(id).second;
}

void Index::Insert(const IndexedPack& pack) {
  uint32_t pos = static_cast<uint32_t>(packs_.size());
  packs_.push_back(pack.id);
  uint64_t end = 0;
  for (const auto& e : pack.entries) end = std::max<uint64_t>(end, uint64_t{e.offset} + e.length);
  pack_data_end_.push_back(end);
  for (const auto& e : pack.entries) {
    blobs_.try_emplace(e.id, Slot{pos, e});
    reserved_.erase(e.id);
  }
}

void Index::AddPack(IndexedPack pack) {
  std::lock_guard lock(mu_);
  Insert(pack);
  unsaved_.push_back(std::move(pack));
}

void Index::AddSavedPack(IndexedPack pack) {
  std::lock_guard lock(mu_);
  Insert(pack);
}

std::vector<IndexedPack> Index::TakeUnsaved() {
  std::lock_guard lock(mu_);
  return std::exchange(unsaved_, {});
}

std::vector<PackId> Index::Packs() const {
  std::lock_guard lock(mu_);
  return packs_;
}

size_t Index::BlobCount() const {
  std::lock_guard lock(mu_);
  return blobs_.size();
}

namespace {
constexpr uint8_t kIndexVersion = 1;
}

Bytes EncodeIndexFile(const std::vector<IndexedPack>& packs) {
  Encoder enc;
  enc.PutU8(kIndexVersion);
  enc.PutVarint(packs.size());
  for (const auto& p : packs) {
    enc.PutRaw(p.id.bytes);
    enc.PutVarint(p.entries.size());
    for (const auto& e : p.entries) {
      enc.PutU8(static_cast<uint8_t>(e.type));
      enc.PutU8(e.compressed ? 1 : 0);
      enc.PutVarint(e.offset);
      enc.PutVarint(e.length);
      enc.PutVarint(e.raw_length);
      enc.PutRaw(e.id.bytes);
    }
  }
  return enc.Take();
}

Result<std::vector<IndexedPack>> DecodeIndexFile(ByteView plaintext) {
  Decoder dec(plaintext);
  uint8_t version = 0;
  uint64_t npacks = 0;
  RETURN_IF_ERROR(dec.GetU8(&version));
  if (version != kIndexVersion) return Status::Corruption("unknown index file version");
  RETURN_IF_ERROR(dec.GetVarint(&npacks));
  if (npacks > plaintext.size()) return Status::Corruption("index pack count is implausible");
  std::vector<IndexedPack> packs(npacks);
  for (auto& p : packs) {
    ByteView id;
    uint64_t n = 0;
    RETURN_IF_ERROR(dec.GetRaw(32, &id));
    std::copy(id.begin(), id.end(), p.id.bytes.begin());
    RETURN_IF_ERROR(dec.GetVarint(&n));
    if (n > dec.remaining()) return Status::Corruption("index entry count is implausible");
    p.entries.resize(n);
    for (auto& e : p.entries) {
      uint8_t type = 0, flags = 0;
      uint64_t offset = 0, length = 0, raw_length = 0;
      ByteView bid;
      RETURN_IF_ERROR(dec.GetU8(&type));
      RETURN_IF_ERROR(dec.GetU8(&flags));
      RETURN_IF_ERROR(dec.GetVarint(&offset));
      RETURN_IF_ERROR(dec.GetVarint(&length));
      RETURN_IF_ERROR(dec.GetVarint(&raw_length));
      RETURN_IF_ERROR(dec.GetRaw(32, &bid));
      if (type > 1 || offset > UINT32_MAX || length > UINT32_MAX || raw_length > UINT32_MAX)
        return Status::Corruption("index entry is out of range");
      e.type = static_cast<BlobType>(type);
      e.compressed = flags & 1;
      e.offset = static_cast<uint32_t>(offset);
      e.length = static_cast<uint32_t>(length);
      e.raw_length = static_cast<uint32_t>(raw_length);
      std::copy(bid.begin(), bid.end(), e.id.bytes.begin());
    }
  }
  if (!dec.done()) return Status::Corruption("index file has trailing bytes");
  return packs;
}

void Index::Clear() {
  std::lock_guard lock(mu_);
  packs_.clear();
  pack_data_end_.clear();
  blobs_.clear();
  reserved_.clear();
  unsaved_.clear();
}

}  // namespace backspan
