#include "restorer/sparse_write.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

Status WriteSparse(int fd, uint64_t offset, ByteView data, const std::string& path, uint64_t* end) {
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
    size_t done = i;
    while (done < j) {
      ssize_t w = ::pwrite(fd, data.data() + done, j - done, static_cast<off_t>(offset + done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return Status::FromErrno(errno, "write " + path);
      }
      done += static_cast<size_t>(w);
    }
    *end = std::max(*end, offset + j);
    i = j;
  }
  return Status::Ok();
}

}  // namespace backspan
