// Micro-benchmarks of the hot per-byte work of a backup, on one core:
// FastCDC chunking (target: at least 1 GB/s), blob hashing and sealing.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>

#include "chunker/fastcdc.h"
#include "compress/compressor.h"
#include "crypto/crypto.h"

namespace {

backspan::Bytes RandomData(size_t n) {
  backspan::Bytes data(n);
  std::mt19937_64 rng(42);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(data.data() + i, &v, 8);
  }
  return data;
}

void BM_FastCdc(benchmark::State& state) {
  const backspan::Bytes data = RandomData(64 << 20);
  backspan::FastCdc cdc(backspan::ChunkerParams{}, backspan::crypto::RandomKey());
  for (auto _ : state) {
    size_t pos = 0, chunks = 0;
    while (pos < data.size()) {
      pos += cdc.NextCut(backspan::ByteView(data).subspan(pos), true);
      ++chunks;
    }
    benchmark::DoNotOptimize(chunks);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_FastCdc)->Unit(benchmark::kMillisecond);

// The chunker's inner loop alone: every byte hashed (no cut-point skipping).
void BM_FastCdcEveryByte(benchmark::State& state) {
  const backspan::Bytes data = RandomData(64 << 20);
  backspan::ChunkerParams p{64, 1 << 26, 1u << 27};  // cuts almost never happen
  backspan::FastCdc cdc(p, backspan::crypto::RandomKey());
  for (auto _ : state) benchmark::DoNotOptimize(cdc.NextCut(data, true));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_FastCdcEveryByte)->Unit(benchmark::kMillisecond);

void BM_BlobId(benchmark::State& state) {
  const backspan::Bytes data = RandomData(static_cast<size_t>(state.range(0)));
  auto key = backspan::crypto::RandomKey();
  for (auto _ : state) benchmark::DoNotOptimize(backspan::crypto::HmacSha256(key, data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_BlobId)->Arg(8 << 10)->Arg(1 << 20);

void BM_Seal(benchmark::State& state) {
  const backspan::Bytes data = RandomData(static_cast<size_t>(state.range(0)));
  auto key = backspan::crypto::RandomKey();
  backspan::Bytes out;
  for (auto _ : state) {
    out.clear();
    backspan::crypto::SealAppend(key, data, {}, &out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Seal)->Arg(8 << 10)->Arg(1 << 20);

}  // namespace

int main(int argc, char** argv) {
  if (!backspan::crypto::Init().ok()) return 1;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
