#include "compress/compressor.h"

#include <zstd.h>

#include <memory>

namespace backspan {
namespace {

constexpr int kAutoLevel = 3;   // zstd's default: a good ratio at several hundred MB/s
constexpr int kMaxLevel = 19;
constexpr size_t kSampleSize = 64 * 1024;
// Store raw if compression saves less than this fraction.
constexpr double kMinSaving = 0.03;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

bool Compress(ByteView data, int level, Bytes* out) {
  out->resize(ZSTD_compressBound(data.size()));
  size_t n = ZSTD_compressCCtx(ThreadCCtx(), out->data(), out->size(), data.data(), data.size(), level);
  if (ZSTD_isError(n)) return false;
  out->resize(n);
  return true;
}

}  // namespace

std::optional<CompressionMode> ParseCompressionMode(std::string_view text) {
  if (text == "off") return CompressionMode::kOff;
  if (text == "auto") return CompressionMode::kAuto;
  if (text == "max") return CompressionMode::kMax;
  return std::nullopt;
}

bool CompressBlob(CompressionMode mode, ByteView data, Bytes* out) {
  if (mode == CompressionMode::kOff || data.size() < 64) return false;
  int level = mode == CompressionMode::kMax ? kMaxLevel : kAutoLevel;
  // Probe a sample with the fastest level first: random-looking data is
  // common in large files and compressing all of it would be wasted work.
  if (mode == CompressionMode::kAuto && data.size() > 2 * kSampleSize) {
    size_t mid = data.size() / 2 - kSampleSize / 2;
    Bytes probe;
    if (!Compress(data.subspan(mid, kSampleSize), 1, &probe)) return false;
    if (probe.size() > kSampleSize * (1.0 - kMinSaving)) return false;
  }
  if (!Compress(data, level, out)) return false;
  return out->size() < data.size() * (1.0 - kMinSaving);
}

Result<Bytes> DecompressBlob(ByteView data, uint64_t raw_length) {
  if (raw_length > (uint64_t{1} << 32)) return Status::Corruption("implausible blob length");
  Bytes out(raw_length);
  size_t n = ZSTD_decompressDCtx(ThreadDCtx(), out.data(), out.size(), data.data(), data.size());
  if (ZSTD_isError(n)) return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != raw_length) return Status::Corruption("decompressed blob has the wrong length");
  return out;
}

}  // namespace backspan
