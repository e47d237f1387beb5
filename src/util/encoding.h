// Binary encoding primitives for the repository format (docs/repository-format.md):
// little-endian fixed integers, LEB128 varints, zig-zag signed varints and
// length-prefixed byte strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/status.h"

namespace backspan {

class Encoder {
 public:
  void PutU8(uint8_t v) { out_.push_back(v); }
  void PutFixed32(uint32_t v);
  void PutVarint(uint64_t v);
  void PutSignedVarint(int64_t v);  // zig-zag
  void PutRaw(ByteView data) { out_.insert(out_.end(), data.begin(), data.end()); }
  void PutBytes(ByteView data);  // varint length, then the bytes
  void PutString(std::string_view s) {
    PutBytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }

  Bytes& buffer() { return out_; }
  Bytes Take() { return std::move(out_); }

 private:
  Bytes out_;
};

// Reads what Encoder wrote. Every getter fails with kCorruption instead of
// reading past the end, so a damaged object never causes undefined behaviour.
class Decoder {
 public:
  explicit Decoder(ByteView data) : data_(data) {}

  Status GetU8(uint8_t* v);
  Status GetFixed32(uint32_t* v);
  Status GetVarint(uint64_t* v);
  Status GetSignedVarint(int64_t* v);
  Status GetRaw(size_t n, ByteView* out);
  Status GetBytes(ByteView* out);
  Status GetString(std::string* out);

  size_t remaining() const { return data_.size() - pos_; }
  bool done() const { return pos_ == data_.size(); }

 private:
  ByteView data_;
  size_t pos_ = 0;
};

void EncodeFixed32(uint8_t* dst, uint32_t v);
uint32_t DecodeFixed32(const uint8_t* src);

}  // namespace backspan
