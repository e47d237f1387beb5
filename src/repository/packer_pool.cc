#include "repository/packer_pool.h"

#include <algorithm>

namespace backspan {

namespace {
// Finished packs waiting for fsync: their bytes are already in the page
// cache, so waiting packs cost no memory beyond their entries.
constexpr size_t kMaxWaitingPacks = 8;
}  // namespace

PackerPool::PackerPool(Backend* backend, const MasterKey* key, Index* index,
                       std::atomic<uint64_t>* bytes_written, size_t target_pack_size)
    : backend_(backend), key_(key), index_(index), bytes_written_(bytes_written),
      target_(target_pack_size) {}

PackerPool::~PackerPool() {
  if (!committers_.empty()) {
    to_commit_->Close();
    for (auto& t : committers_) t.join();
  }
}

Status PackerPool::FirstError() {
  std::lock_guard lock(error_mu_);
  return error_;
}

Status PackerPool::Add(BlobType type, const BlobId& id, bool compressed, uint32_t raw_length,
                       ByteView payload) {
  RETURN_IF_ERROR(FirstError());
  auto& idle = idle_[static_cast<int>(type)];
  std::unique_ptr<PackWriter> writer;
  {
    std::lock_guard lock(mu_);
    if (!idle.empty()) {
      writer = std::move(idle.back());
      idle.pop_back();
    }
  }
  // Keep packs near the target size: finish a full pack before adding.
  if (writer && writer->size() + payload.size() + crypto::kSealOverhead > target_) {
    RETURN_IF_ERROR(Finish(std::move(writer)));
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

Status PackerPool::Finish(std::unique_ptr<PackWriter> writer) {
  Finished f;
  f.indexed.entries = writer->entries();
  ASSIGN_OR_RETURN(f.indexed.id, writer->Finish(*key_));
  f.writer = std::move(writer);
  {
    std::lock_guard lock(mu_);
    if (committers_.empty()) {
      to_commit_ = std::make_unique<BoundedQueue<Finished>>(kMaxWaitingPacks);
      for (int i = 0; i < std::max(1, backend_->CommitConcurrency()); ++i)
        committers_.emplace_back([this] { CommitLoop(); });
    }
  }
  (void)to_commit_->Push(std::move(f));
  return Status::Ok();
}

void PackerPool::CommitLoop() {
  while (auto f = to_commit_->Pop()) {
    if (!FirstError().ok()) continue;  // discard: the job is failing anyway
    Status st = f->writer->Commit(f->indexed.id);
    if (!st.ok()) {
      std::lock_guard lock(error_mu_);
      error_ = st;
      continue;
    }
    *bytes_written_ += f->writer->size();
    index_->AddPack(std::move(f->indexed));
  }
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
  Status st;
  for (auto& w : all)
    if (st.ok() && !w->empty()) st = Finish(std::move(w));
  std::vector<std::thread> committers;
  {
    std::lock_guard lock(mu_);
    committers = std::move(committers_);
    committers_.clear();
  }
  if (!committers.empty()) {
    to_commit_->Close();
    for (auto& t : committers) t.join();
  }
  RETURN_IF_ERROR(st);
  return FirstError();
}

}  // namespace backspan
