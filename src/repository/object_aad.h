// Associated data for sealing: binds every sealed object to what it is, so
// that someone who can rewrite the repository cannot pass one valid object
// off as another (a snapshot as an index, or blob A as blob B).
#pragma once

#include <array>
#include <string_view>

#include "repository/ids.h"
#include "util/bytes.h"

namespace backspan::aad {

inline ByteView Of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

inline constexpr std::string_view kConfig = "backspan/config";
inline constexpr std::string_view kKey = "backspan/key";
inline constexpr std::string_view kPackHeader = "backspan/pack-header";
inline constexpr std::string_view kIndex = "backspan/index";
inline constexpr std::string_view kSnapshot = "backspan/snapshot";
inline constexpr std::string_view kLock = "backspan/lock";
inline constexpr std::string_view kDeletion = "backspan/deletion";

// A blob's: its type byte followed by its 32-byte id.
inline std::array<uint8_t, 33> Blob(BlobType type, const BlobId& id) {
  std::array<uint8_t, 33> out;
  out[0] = static_cast<uint8_t>(type);
  std::copy(id.bytes.begin(), id.bytes.end(), out.begin() + 1);
  return out;
}

}  // namespace backspan::aad
