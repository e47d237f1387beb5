// Identifiers of repository objects: 32-byte values shown as lower-case hex.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>

#include "util/hex.h"

namespace backspan {

struct Id {
  std::array<uint8_t, 32> bytes{};

  std::string Hex() const { return HexEncode(bytes); }
  std::string ShortHex() const { return Hex().substr(0, 8); }
  bool IsZero() const {
    for (uint8_t b : bytes)
      if (b) return false;
    return true;
  }
  static std::optional<Id> FromHex(const std::string& hex) {
    auto b = HexDecode(hex);
    if (!b || b->size() != 32) return std::nullopt;
    Id id;
    std::memcpy(id.bytes.data(), b->data(), 32);
    return id;
  }
  friend bool operator==(const Id&, const Id&) = default;
  friend auto operator<=>(const Id&, const Id&) = default;
};

// A blob (chunk of file data or a tree) is named by HMAC-SHA256 of its
// plaintext; a pack, index or snapshot file by SHA-256 of its stored bytes.
using BlobId = Id;
using PackId = Id;

struct IdHash {
  size_t operator()(const Id& id) const {
    size_t h;
    std::memcpy(&h, id.bytes.data(), sizeof h);  // ids are uniformly random already
    return h;
  }
};

enum class BlobType : uint8_t { kData = 0, kTree = 1 };

}  // namespace backspan
