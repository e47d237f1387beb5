// A request body, read as it is sent: from memory, or piece by piece from
// a file, so that a large one is never held whole in memory.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/status.h"

namespace backspan::net {

struct BodySource {
  uint64_t size = 0;
  // The body's SHA-256 in hex, when the caller knows it (a file named by
  // it), so that a signer need not read the body to hash it.
  std::string sha256_hex;
  // Fills `dst` with `length` bytes from `offset`; called again from the
  // start when a request is retried.
  std::function<Status(uint64_t offset, uint8_t* dst, size_t length)> read;

  // `bytes`, which must outlive every request that sends them.
  static BodySource Of(ByteView bytes) {
    BodySource b;
    b.size = bytes.size();
    b.read = [bytes](uint64_t offset, uint8_t* dst, size_t length) {
      if (offset + length > bytes.size()) return Status::Internal("a request body was read past its end");
      std::memcpy(dst, bytes.data() + offset, length);
      return Status::Ok();
    };
    return b;
  }
  static BodySource Of(std::string_view text) {
    return Of(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
};

}  // namespace backspan::net
