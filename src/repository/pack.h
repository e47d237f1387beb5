// Pack files: many sealed blobs followed by a sealed header that lists
// them, and the header's length as a 4-byte little-endian integer at the
// very end. A pack is named by the SHA-256 of its bytes.
// See docs/repository-format.md.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "repository/ids.h"
#include "repository/master_key.h"
#include "util/status.h"

namespace backspan {

struct PackEntry {
  BlobType type = BlobType::kData;
  bool compressed = false;
  BlobId id;
  uint32_t offset = 0;      // of the sealed blob in the pack
  uint32_t length = 0;      // sealed length
  uint32_t raw_length = 0;  // plaintext length before compression
};

// Writes one pack, streaming each sealed blob to the backend as it is
// added, so a pack never has to fit in memory. Not thread-safe.
class PackWriter {
 public:
  explicit PackWriter(std::unique_ptr<PendingFile> out);
  ~PackWriter();

  // Seals `payload` (already compressed if `compressed`) into the pack.
  Status Add(const MasterKey& key, BlobType type, const BlobId& id, bool compressed,
             uint32_t raw_length, ByteView payload);
  uint64_t size() const { return size_; }
  bool empty() const { return entries_.empty(); }
  const std::vector<PackEntry>& entries() const { return entries_; }

  // Appends the header and returns the pack's id (the SHA-256 of its
  // bytes). Nothing more can be added afterwards.
  Result<PackId> Finish(const MasterKey& key);
  // Makes the finished pack durable under its id.
  Status Commit(const PackId& id) { return out_->Commit(id.Hex()); }

 private:
  Status Write(ByteView data);

  std::unique_ptr<PendingFile> out_;
  struct HashState;
  std::unique_ptr<HashState> hash_;
  uint64_t size_ = 0;
  std::vector<PackEntry> entries_;
};

// The plaintext of a pack header for `entries`.
Bytes EncodePackHeader(const std::vector<PackEntry>& entries);

// Decodes the header of a whole pack (as loaded from a backend) and checks
// that every entry lies inside the pack.
Result<std::vector<PackEntry>> ReadPackHeader(ByteView pack, const MasterKey& key);

// Reads only a stored pack's header (its last bytes, by ranged loads).
Result<std::vector<PackEntry>> LoadPackHeader(Backend* backend, const std::string& name, const MasterKey& key);

}  // namespace backspan
