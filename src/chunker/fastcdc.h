// Content-defined chunking with FastCDC: a gear rolling hash, cut-point
// skipping below the minimum size, and normalised chunking (a stricter mask
// before the average size, a looser one after it). The gear table is derived
// from a per-repository secret so chunk boundaries do not leak content.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "crypto/crypto.h"
#include "util/bytes.h"

namespace backspan {

struct ChunkerParams {
  uint32_t min_size = 512 * 1024;
  uint32_t avg_size = 1024 * 1024;  // must be a power of two
  uint32_t max_size = 8 * 1024 * 1024;
};

// True if min < avg < max, avg is a power of two, and sizes are sane.
bool ValidChunkerParams(const ChunkerParams& p);

class FastCdc {
 public:
  // `gear_key` is the repository's secret chunker key.
  FastCdc(const ChunkerParams& params, const crypto::Key& gear_key);

  // Returns the length of the next chunk at the start of `data`. If `data`
  // holds fewer than max_size bytes and `at_eof` is false, the result may be
  // data.size() + 1 meaning "need more data"; callers keep a buffer of at
  // least max_size bytes, so this only happens when more input exists.
  // With at_eof true it always returns a length in [1, data.size()].
  size_t NextCut(ByteView data, bool at_eof) const;

  const ChunkerParams& params() const { return params_; }

 private:
  ChunkerParams params_;
  uint64_t mask_small_;  // used before avg_size: more bits, cuts are rarer
  uint64_t mask_large_;  // used after avg_size: fewer bits, cuts are likelier
  std::array<uint64_t, 256> gear_;
};

}  // namespace backspan
