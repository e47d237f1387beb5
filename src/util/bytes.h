// Byte containers shared by every module.
#pragma once

#include <array>
#include <memory>
#include <utility>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace backspan {

// An allocator that leaves new elements uninitialised: buffers of many
// megabytes are resized on every chunk, and zero-filling them first would
// cost as much as hashing them.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  using std::allocator<T>::allocator;
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

using Bytes = std::vector<uint8_t, DefaultInitAllocator<uint8_t>>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsText(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline std::string AsString(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace backspan
