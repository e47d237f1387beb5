#include "repository/packer_pool.h"

namespace backspan {

PackerPool::PackerPool(Backend* backend, const MasterKey* key, Index* index,
                       std::atomic<uint64_t>* bytes_written, size_t target_pack_size)
    : backend_(backend), key_(key), index_(index), bytes_written_(bytes_written),
      target_(target_pack_size) {}

Status PackerPool::Add(BlobType type, const BlobId& id, bool compressed, uint32_t raw_length,
                       ByteView payload) {
  auto& idle = idle_[static_cast<int>(type)];
  std::unique_ptr<PackWriter> writer;
  {
    std::lock_guard lock(mu_);
    if (!idle.empty()) {
      writer = std::move(idle.back());
      idle.pop_back();
    }
  }
  // Keep packs near the target size: commit a full pack before adding.
  if (writer && writer->size() + payload.size() + crypto::kSealOverhead > target_) {
    RETURN_IF_ERROR(Commit(std::move(writer)));
  }
  if (!writer) {
    ASSIGN_OR_RETURN(auto out, backend_->Begin(FileType::kPack));
    writer = std::make_unique<PackWriter>(std::move(out));
  }
  RETURN_IF_ERROR(writer->Add(*key_, type, id, compressed, raw_length, payload));
  std::lock_guard lock(mu_);
  idle.push_back(std::move(writer));
  return Status::Ok();
}

Status PackerPool::Commit(std::unique_ptr<PackWriter> writer) {
  IndexedPack indexed;
  indexed.entries = writer->entries();
  ASSIGN_OR_RETURN(indexed.id, writer->Finish(*key_));
  *bytes_written_ += writer->size();
  index_->AddPack(std::move(indexed));
  return Status::Ok();
}

Status PackerPool::Flush() {
  std::vector<std::unique_ptr<PackWriter>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& list : idle_) {
      for (auto& w : list) all.push_back(std::move(w));
      list.clear();
    }
  }
  for (auto& w : all)
    if (!w->empty()) RETURN_IF_ERROR(Commit(std::move(w)));
  return Status::Ok();
}

}  // namespace backspan
