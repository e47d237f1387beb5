// Repository: an opened, unlocked repository on some backend. It owns the
// master key, the config, the index and the packers, and offers blobs,
// trees, snapshots and keys to the archiver, restorer and checker.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "chunker/fastcdc.h"
#include "compress/compressor.h"
#include "env/env.h"
#include "repository/config.h"
#include "repository/index.h"
#include "repository/read_ahead.h"
#include "repository/key_file.h"
#include "repository/packer_pool.h"
#include "repository/snapshot.h"
#include "repository/tree.h"

namespace backspan {

struct KeyInfo {
  std::string id;
  KeyFile file;
  bool current = false;
};

// What to run about a damaged object.
inline constexpr const char* kCheckRemedy = "'backspan check --read-data' names what it affects";
inline constexpr const char* kRepairIndexRemedy = "'backspan repair index' rebuilds the index from the packs";

// A Corruption status for repository object `what` ("blob 1a2b in pack
// 3c4d", "index/5e6f") that failed authentication or decoding: it says the
// object is damaged, and what to run.
Status Damaged(const std::string& what, const Status& why, const char* remedy = kCheckRemedy);

class Repository {
 public:
  // Creates a new repository at the backend's location and returns it open.
  // Fails with kAlreadyExists if one is there.
  static Result<std::unique_ptr<Repository>> Init(std::unique_ptr<Backend> backend, Env* env,
                                                  const std::string& password,
                                                  const ChunkerParams& chunker,
                                                  const std::string& hostname,
                                                  const std::string& username);

  // Opens an existing repository. kNotARepository if there is none;
  // kWrongPassword if no key file opens with `password`. Writes nothing.
  static Result<std::unique_ptr<Repository>> Open(std::unique_ptr<Backend> backend, Env* env,
                                                  const std::string& password);

  ~Repository();

  // Reads every index file into memory. Needed before blobs are used.
  // With `packs`, also returns every pack as the index files list it
  // (including blobs stored in more than one pack), for the checker; with
  // `files`, the names of the index files read, for prune. An index file
  // that does not authenticate or decode fails the load, unless `damaged`
  // is given: then it is skipped and listed there ("index/1a2b3c4d: why"),
  // so reads go on with what the other files index (prune must not: it
  // would take the packs only a damaged file lists for unused).
  Status LoadIndex(std::vector<IndexedPack>* packs = nullptr, std::vector<std::string>* files = nullptr,
                   std::vector<std::string>* damaged = nullptr);
  // For writers (backup): loads the index without the packs that prune has
  // marked for deletion, so new snapshots never depend on them. Must run
  // after the job's lock is written. Damaged index files are skipped and
  // listed in `damaged` (their blobs are then stored again).
  Status LoadIndexForWriting(std::vector<std::string>* damaged);
  // Writes `packs` as new index files, a bounded number of packs to a file;
  // returns their names.
  Result<std::vector<std::string>> WriteIndexFiles(const std::vector<IndexedPack>& packs);

  const Config& config() const { return config_; }
  const FastCdc& chunker() const { return chunker_; }
  Backend* backend() { return backend_.get(); }
  Env* env() { return env_; }
  Index& index() { return index_; }

  // Reads blobs through windows of `window` bytes of their packs, keeping
  // `capacity` windows (repository/read_ahead.h): for remote backends.
  void EnableReadAhead(uint64_t window, size_t capacity);
  const MasterKey& master_key() const { return key_; }

  // The id of a blob with this plaintext (keyed HMAC-SHA256).
  BlobId HashBlob(ByteView plaintext) const;

  // Stores a blob unless the repository already has it or another thread
  // is storing it. Returns true if this call stored it. Thread-safe.
  Result<bool> SaveBlob(BlobType type, const BlobId& id, ByteView plaintext, CompressionMode mode);
  // Loads, authenticates (with its type and id) and decompresses a blob.
  // Thread-safe.
  Result<Bytes> LoadBlob(const BlobId& id);
  // The same, from a given location rather than the index's. Thread-safe.
  Result<Bytes> LoadBlobAt(const BlobId& id, const BlobLocation& loc);
  // A blob from its sealed bytes, read by the caller from the pack at
  // `loc` (a restore that reads packs in spans): authenticated and
  // decompressed. Thread-safe.
  Result<Bytes> OpenBlob(const BlobId& id, const BlobLocation& loc, ByteView sealed);
  // Copies a blob from `loc` into a new pack, authenticating it on the way
  // (prune's repacking). The copy is indexed once its pack is durable.
  Status RepackBlob(const BlobId& id, const BlobLocation& loc);

  Result<BlobId> SaveTree(const Tree& tree, CompressionMode mode);
  Result<Tree> LoadTree(const BlobId& id);
  Result<Tree> LoadTreeAt(const BlobId& id, const BlobLocation& loc);

  // Writes partly filled packs, then an index file for all new packs.
  Status Flush();
  // Writes an index file for the packs finished so far if the last one was
  // written more than the checkpoint interval ago. Bounds the work an
  // interrupted backup loses.
  Status MaybeCheckpointIndex();
  void set_checkpoint_interval_ns(int64_t ns) { checkpoint_interval_ns_ = ns; }

  // Snapshots.
  Result<std::string> SaveSnapshot(const Snapshot& snapshot);
  Result<Snapshot> LoadSnapshot(const std::string& id);
  // All snapshots, oldest first. A snapshot listed but gone when read was
  // forgotten meanwhile by another process: skipped, unless `vanished_is_error`
  // (a caller holding the exclusive lock, for whom that cannot happen).
  Result<std::vector<Snapshot>> LoadAllSnapshots(bool vanished_is_error = false);
  // Resolves an id, a unique prefix of one, or "latest" (the newest
  // snapshot matching the filters).
  Result<Snapshot> FindSnapshot(const std::string& spec, const std::vector<std::string>& tags = {},
                                const std::string& host = "");

  // Keys.
  Result<std::string> AddKey(const std::string& password, const std::string& hostname,
                             const std::string& username);
  Result<std::vector<KeyInfo>> ListKeys();
  // Removes a key by id or unique prefix; refuses the key in use.
  Status RemoveKey(const std::string& id_or_prefix);

  // Seals `plaintext` as a file of `type` (index, snapshot, lock, deletion)
  // named by the SHA-256 of its sealed bytes, and returns the name.
  Result<std::string> SaveSealed(FileType type, ByteView plaintext);
  // Loads and authenticates such a file.
  Result<Bytes> LoadSealed(FileType type, const std::string& name);

  // Bytes written to the backend by this process (packs, indexes, snapshots).
  uint64_t bytes_written() const { return bytes_written_.load(); }
  // Plaintext bytes of blobs newly stored by this process.
  uint64_t bytes_added() const { return bytes_added_.load(); }
  uint64_t blobs_added(BlobType t) const { return blobs_added_[static_cast<int>(t)].load(); }

 private:
  Repository(std::unique_ptr<Backend> backend, Env* env, const MasterKey& key, Config config,
             std::string key_id);
  Status WriteIndex();
  // A blob's stored payload (compressed or not), authenticated.
  Result<Bytes> LoadPayload(const BlobId& id, const BlobLocation& loc);
  Result<Bytes> OpenPayload(const BlobId& id, const BlobLocation& loc, ByteView sealed);
  Result<Bytes> Decompressed(const BlobId& id, const BlobLocation& loc, Bytes plain);

  std::unique_ptr<Backend> backend_;
  Env* env_;
  MasterKey key_;
  Config config_;
  std::string key_id_;
  FastCdc chunker_;
  Index index_;
  std::unique_ptr<ReadAhead> read_ahead_;
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> bytes_added_{0};
  std::atomic<uint64_t> blobs_added_[2] = {0, 0};
  PackerPool packers_;
  std::mutex index_write_mu_;
  int64_t last_checkpoint_ns_ = 0;
  int64_t checkpoint_interval_ns_ = 60LL * 1000000000;
};

}  // namespace backspan
