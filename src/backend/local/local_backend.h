// A repository in a local directory. Packs are spread over 256
// subdirectories data/00 .. data/ff by the first byte of their name.
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "backend/backend.h"
#include "env/env.h"

namespace backspan {

class LocalBackend final : public Backend {
 public:
  // `env` must outlive the backend.
  LocalBackend(Env* env, std::string root);

  std::string Location() const override { return root_; }
  Status Create() override;
  Result<bool> IsRepository() override;
  Status Save(FileType type, const std::string& name, ByteView data) override;
  Result<std::unique_ptr<PendingFile>> Begin(FileType type) override;
  Result<Bytes> Load(FileType type, const std::string& name, uint64_t offset,
                     uint64_t length) override;
  Result<uint64_t> Size(FileType type, const std::string& name) override;
  Result<std::vector<std::string>> List(FileType type) override;
  Status Remove(FileType type, const std::string& name) override;
  // The .tmp-* files of unfinished writes, in every directory of the layout.
  Result<std::vector<Leftover>> ListLeftovers() override;
  Status RemoveLeftover(const std::string& name) override;

 private:
  std::string PathOf(FileType type, const std::string& name) const;
  // Packs are immutable and read blob by blob, so a few recently used
  // ones stay open instead of being reopened for every blob.
  Result<std::shared_ptr<ReadableFile>> OpenPack(const std::string& name);

  Env* env_;
  std::string root_;
  std::mutex open_packs_mu_;
  std::list<std::pair<std::string, std::shared_ptr<ReadableFile>>> open_packs_;  // most recent first
};

}  // namespace backspan
