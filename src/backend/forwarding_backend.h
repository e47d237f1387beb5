// A Backend that forwards every call to another: the base of backends that
// add one concern to any backend (tracing, a cache), as LevelDB's
// EnvWrapper is for Envs. A subclass overrides only what it changes.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backend/backend.h"

namespace backspan {

class ForwardingBackend : public Backend {
 public:
  explicit ForwardingBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}

  std::string Location() const override { return inner_->Location(); }
  Status Create() override { return inner_->Create(); }
  Result<bool> IsRepository() override { return inner_->IsRepository(); }
  Status Save(FileType type, const std::string& name, ByteView data) override { return inner_->Save(type, name, data); }
  Result<std::unique_ptr<PendingFile>> Begin(FileType type) override { return inner_->Begin(type); }
  Result<Bytes> Load(FileType type, const std::string& name, uint64_t offset, uint64_t length) override {
    return inner_->Load(type, name, offset, length);
  }
  Result<Bytes> LoadTreeRange(const std::string& pack, uint64_t offset, uint64_t length) override {
    return inner_->LoadTreeRange(pack, offset, length);
  }
  Result<uint64_t> Size(FileType type, const std::string& name) override { return inner_->Size(type, name); }
  Result<std::vector<std::string>> List(FileType type) override { return inner_->List(type); }
  Result<std::vector<std::pair<std::string, uint64_t>>> ListSizes(FileType type) override {
    return inner_->ListSizes(type);
  }
  Status Remove(FileType type, const std::string& name) override { return inner_->Remove(type, name); }
  Result<std::vector<Leftover>> ListLeftovers() override { return inner_->ListLeftovers(); }
  Status RemoveLeftover(const std::string& name) override { return inner_->RemoveLeftover(name); }
  Status CheckRemovable() override { return inner_->CheckRemovable(); }
  int CommitConcurrency() const override { return inner_->CommitConcurrency(); }
  int ReadConcurrency() const override { return inner_->ReadConcurrency(); }
  std::vector<RequestCounts> Counts() const override { return inner_->Counts(); }

 protected:
  Backend* inner() const { return inner_.get(); }

 private:
  std::unique_ptr<Backend> inner_;
};

}  // namespace backspan
