#include "chunker/fastcdc.h"

#include <openssl/evp.h>

#include <bit>

namespace backspan {
namespace {

// A mask with `bits` ones in the top bits of the hash: with the gear hash
// (h << 1) + gear[b], the top bits depend on the last 64 input bytes.
uint64_t TopBitsMask(int bits) { return bits <= 0 ? 0 : ~uint64_t{0} << (64 - bits); }

}  // namespace

bool ValidChunkerParams(const ChunkerParams& p) {
  return p.min_size >= 64 && p.min_size < p.avg_size && p.avg_size < p.max_size &&
         std::has_single_bit(p.avg_size) && p.max_size <= (64u << 20);
}

FastCdc::FastCdc(const ChunkerParams& params, const crypto::Key& gear_key) : params_(params) {
  int bits = std::countr_zero(params.avg_size);
  // Normalisation level 2, as recommended by the FastCDC paper.
  mask_small_ = TopBitsMask(bits + 2);
  mask_large_ = TopBitsMask(bits - 2);
  // The gear table is the AES-256-CTR keystream of the chunker key: 256
  // pseudo-random 64-bit values that nobody without the key can predict.
  std::array<uint8_t, 256 * 8> stream{};
  std::array<uint8_t, 16> iv{};
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), nullptr, gear_key.data(), iv.data());
  EVP_EncryptUpdate(ctx, stream.data(), &len, stream.data(), static_cast<int>(stream.size()));
  EVP_CIPHER_CTX_free(ctx);
  for (size_t i = 0; i < gear_.size(); ++i) {  // little-endian on every platform
    uint64_t v = 0;
    for (int j = 7; j >= 0; --j) v = v << 8 | stream[8 * i + static_cast<size_t>(j)];
    gear_[i] = v;
  }
}

size_t FastCdc::NextCut(ByteView data, bool at_eof) const {
  const size_t n = data.size();
  if (n <= params_.min_size) return at_eof ? n : n + 1;
  const size_t limit = n < params_.max_size ? n : params_.max_size;
  const size_t normal = params_.avg_size < limit ? params_.avg_size : limit;
  const uint8_t* p = data.data();
  uint64_t h = 0;
  size_t i = params_.min_size;
  for (; i < normal; ++i) {
    h = (h << 1) + gear_[p[i]];
    if ((h & mask_small_) == 0) return i + 1;
  }
  for (; i < limit; ++i) {
    h = (h << 1) + gear_[p[i]];
    if ((h & mask_large_) == 0) return i + 1;
  }
  if (limit == params_.max_size) return limit;
  return at_eof ? n : n + 1;
}

}  // namespace backspan
