// ObjectBackend: a repository in a cloud object store (any ObjectStore),
// with the same layout as a local one under the location's prefix:
// config, keys/<id>, data/<xx>/<id>, index/<id>, snapshots/<id>, ...
//
// - Every write is create-only (If-None-Match: *): no two clients can ever
//   overwrite each other, and append-only credentials suffice for backups.
//   Every name but "config" is the SHA-256 of the bytes, so finding a name
//   taken (a retry after a lost answer, two hosts storing the same index)
//   is success once the stored bytes hash to it.
// - A pack streams into an unlinked temporary file as it is written (its
//   name is its hash, known only at the end), then uploads in parts, several
//   at a time; a failed upload is aborted, so nothing half-written is ever
//   visible and no parts stay billed.
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"
#include "backend/object/object_store.h"
#include "env/env.h"

namespace backspan::object {

struct ObjectBackendOptions {
  std::string spill_dir = "/tmp";  // where packs wait for their name (TMPDIR)
  int parallel_parts = 4;          // parts of one object uploading at once
  int parallel_commits = 3;        // packs uploading at once
  int parallel_reads = 8;          // reads worth having in flight
};

class ObjectBackend final : public Backend {
 public:
  // `prefix` is the location's path inside the container ("" or "a/b").
  ObjectBackend(std::unique_ptr<ObjectStore> store, std::string prefix, Env* env, ObjectBackendOptions options);

  std::string Location() const override { return store_->Describe(); }
  Status Create() override;
  Result<bool> IsRepository() override;
  Status Save(FileType type, const std::string& name, ByteView data) override;
  Result<std::unique_ptr<PendingFile>> Begin(FileType type) override;
  Result<Bytes> Load(FileType type, const std::string& name, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(FileType type, const std::string& name) override;
  Result<std::vector<std::string>> List(FileType type) override;
  Result<std::vector<std::pair<std::string, uint64_t>>> ListSizes(FileType type) override;
  Status Remove(FileType type, const std::string& name) override;
  // Unfinished part uploads (S3); named "<key>?uploadId=<id>".
  Result<std::vector<Leftover>> ListLeftovers() override;
  Status RemoveLeftover(const std::string& name) override;
  Status CheckRemovable() override;
  std::vector<RequestCounts> Counts() const override { return store_->Counts(); }
  int CommitConcurrency() const override { return options_.parallel_commits; }
  int ReadConcurrency() const override { return options_.parallel_reads; }

  // Stores `body` as the file (type, name), create-only: in one request if
  // it fits a part, else in parts, several at a time. The shared path of
  // Save (from memory) and of a pending file (from its temporary file).
  Status Upload(FileType type, const std::string& name, const net::BodySource& body);

 private:
  std::string KeyOf(FileType type, const std::string& name) const;
  std::string DirKey(FileType type) const;
  // After a create-only write found `name` taken: Ok if the stored object is
  // the same bytes (it hashes to its name), else what is wrong.
  Status AlreadyStored(FileType type, const std::string& name, const Status& conflict);

  std::unique_ptr<ObjectStore> store_;
  std::string prefix_;  // "" or ending in '/'
  Env* env_;
  ObjectBackendOptions options_;
};

}  // namespace backspan::object
