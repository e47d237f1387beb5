#include "repository/packer_pool.h"

namespace backspan {

PackerPool::PackerPool(Backend* backend, const MasterKey* key, Index* index,
                       std::atomic<uint64_t>* bytes_written, size_t target_pack_size)
    : backend_(backend), key_(key), index_(index), bytes_written_(bytes_written),
      target_(target_pack_size) {}

Status PackerPool::Add(BlobType type, const BlobId& id, bool compressed, uint32_t raw_length,
                       ByteView payload) {
  auto& idle = idle_[static_cast<int>(type)];
  std::unique_ptr<PackBuilder> builder;
  {
    std::lock_guard lock(mu_);
    if (!idle.empty()) {
      builder = std::move(idle.back());
      idle.pop_back();
    }
  }
  if (!builder) builder = std::make_unique<PackBuilder>();
  builder->Add(*key_, type, id, compressed, raw_length, payload);
  Status st;
  if (builder->size() >= target_) st = WritePack(builder.get());
  std::lock_guard lock(mu_);
  idle.push_back(std::move(builder));
  return st;
}

Status PackerPool::WritePack(PackBuilder* builder) {
  IndexedPack indexed;
  indexed.entries = builder->entries();
  Bytes pack = builder->Finish(*key_);
  indexed.id.bytes = crypto::Sha256(pack);
  RETURN_IF_ERROR(backend_->Save(FileType::kPack, indexed.id.Hex(), pack));
  *bytes_written_ += pack.size();
  index_->AddPack(std::move(indexed));
  return Status::Ok();
}

Status PackerPool::Flush() {
  std::vector<std::unique_ptr<PackBuilder>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& list : idle_)
      for (auto& b : list) all.push_back(std::move(b));
    idle_[0].clear();
    idle_[1].clear();
  }
  for (auto& b : all)
    if (!b->empty()) RETURN_IF_ERROR(WritePack(b.get()));
  return Status::Ok();
}

}  // namespace backspan
