// Pack files: many sealed blobs followed by a sealed header that lists
// them, and the header's length as a 4-byte little-endian integer at the
// very end. See docs/repository-format.md.
#pragma once

#include <cstdint>
#include <vector>

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

// Accumulates sealed blobs for one pack. Not thread-safe: one owner at a time.
class PackBuilder {
 public:
  // Seals `payload` (already compressed if `compressed`) into the pack.
  void Add(const MasterKey& key, BlobType type, const BlobId& id, bool compressed,
           uint32_t raw_length, ByteView payload);
  size_t size() const { return data_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<PackEntry>& entries() const { return entries_; }

  // Appends the header, returns the finished pack bytes and resets the builder.
  Bytes Finish(const MasterKey& key);

 private:
  Bytes data_;
  std::vector<PackEntry> entries_;
};

// Decodes the header of a whole pack (as loaded from a backend) and checks
// that every entry lies inside the pack.
Result<std::vector<PackEntry>> ReadPackHeader(ByteView pack, const MasterKey& key);

}  // namespace backspan
