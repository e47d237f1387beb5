#include "util/encoding.h"

namespace backspan {

void EncodeFixed32(uint8_t* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint32_t DecodeFixed32(const uint8_t* src) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(src[i]) << (8 * i);
  return v;
}

void Encoder::PutFixed32(uint32_t v) {
  uint8_t buf[4];
  EncodeFixed32(buf, v);
  PutRaw(buf);
}

void Encoder::PutVarint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<uint8_t>(v));
}

void Encoder::PutSignedVarint(int64_t v) {
  PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void Encoder::PutBytes(ByteView data) {
  PutVarint(data.size());
  PutRaw(data);
}

static Status Truncated() { return Status::Corruption("truncated or malformed encoding"); }

Status Decoder::GetU8(uint8_t* v) {
  if (remaining() < 1) return Truncated();
  *v = data_[pos_++];
  return Status::Ok();
}

Status Decoder::GetFixed32(uint32_t* v) {
  if (remaining() < 4) return Truncated();
  *v = DecodeFixed32(data_.data() + pos_);
  pos_ += 4;
  return Status::Ok();
}

Status Decoder::GetVarint(uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (remaining() < 1) return Truncated();
    uint8_t byte = data_[pos_++];
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return Status::Ok();
    }
  }
  return Truncated();
}

Status Decoder::GetSignedVarint(int64_t* v) {
  uint64_t u = 0;
  RETURN_IF_ERROR(GetVarint(&u));
  *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return Status::Ok();
}

Status Decoder::GetRaw(size_t n, ByteView* out) {
  if (remaining() < n) return Truncated();
  *out = data_.subspan(pos_, n);
  pos_ += n;
  return Status::Ok();
}

Status Decoder::GetBytes(ByteView* out) {
  uint64_t n = 0;
  RETURN_IF_ERROR(GetVarint(&n));
  if (n > remaining()) return Truncated();
  return GetRaw(static_cast<size_t>(n), out);
}

Status Decoder::GetString(std::string* out) {
  ByteView b;
  RETURN_IF_ERROR(GetBytes(&b));
  *out = AsString(b);
  return Status::Ok();
}

}  // namespace backspan
