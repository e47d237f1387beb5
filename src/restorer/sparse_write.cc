#include "restorer/sparse_write.h"

#include <algorithm>
#include <cstring>

namespace backspan {
namespace {

bool AllZero(const uint8_t* p, size_t n) {
  static const uint8_t kZeros[4096] = {};
  while (n >= sizeof kZeros) {
    if (std::memcmp(p, kZeros, sizeof kZeros) != 0) return false;
    p += sizeof kZeros;
    n -= sizeof kZeros;
  }
  return std::memcmp(p, kZeros, n) == 0;
}

}  // namespace

Status WriteSparse(PositionalFile* file, uint64_t offset, ByteView data, uint64_t* end) {
  constexpr size_t kBlock = 4096;
  size_t i = 0;
  while (i < data.size()) {
    size_t n = std::min(kBlock, data.size() - i);
    if (AllZero(data.data() + i, n)) {
      i += n;
      continue;
    }
    size_t j = i + n;  // extend the run of non-zero blocks
    while (j < data.size()) {
      size_t m = std::min(kBlock, data.size() - j);
      if (AllZero(data.data() + j, m)) break;
      j += m;
    }
    RETURN_IF_ERROR(file->WriteAt(offset + i, data.subspan(i, j - i)));
    *end = std::max(*end, offset + j);
    i = j;
  }
  return Status::Ok();
}

}  // namespace backspan
