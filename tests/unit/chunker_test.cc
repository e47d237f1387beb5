// FastCDC: boundaries depend only on content and the repository key, obey
// the size limits, survive insertions, and streaming matches one-shot.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "chunker/fastcdc.h"

namespace backspan {
namespace {

// Small sizes keep the tests fast; the algorithm is the same.
const ChunkerParams kParams{2048, 8192, 65536};

Bytes RandomData(size_t n, uint64_t seed) {
  Bytes data(n);
  std::mt19937_64 rng(seed);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  return data;
}

std::vector<size_t> Cuts(const FastCdc& cdc, ByteView data) {
  std::vector<size_t> cuts;
  size_t pos = 0;
  while (pos < data.size()) {
    pos += cdc.NextCut(data.subspan(pos), true);
    cuts.push_back(pos);
  }
  return cuts;
}

TEST(FastCdc, SizesWithinLimitsAndAverageNearTarget) {
  FastCdc cdc(kParams, crypto::Key{});
  Bytes data = RandomData(4 << 20, 1);
  auto cuts = Cuts(cdc, data);
  size_t prev = 0;
  for (size_t i = 0; i < cuts.size(); ++i) {
    size_t len = cuts[i] - prev;
    if (i + 1 < cuts.size()) {
      EXPECT_GE(len, kParams.min_size);
    }
    EXPECT_LE(len, kParams.max_size);
    prev = cuts[i];
  }
  double avg = static_cast<double>(data.size()) / static_cast<double>(cuts.size());
  EXPECT_GT(avg, kParams.avg_size * 0.6);
  EXPECT_LT(avg, kParams.avg_size * 1.6);
}

TEST(FastCdc, DeterministicPerKeyAndDifferentAcrossKeys) {
  crypto::Key k1{}, k2{};
  k2[0] = 1;
  Bytes data = RandomData(1 << 20, 2);
  EXPECT_EQ(Cuts(FastCdc(kParams, k1), data), Cuts(FastCdc(kParams, k1), data));
  EXPECT_NE(Cuts(FastCdc(kParams, k1), data), Cuts(FastCdc(kParams, k2), data));
}

TEST(FastCdc, InsertionShiftsOnlyNearbyBoundaries) {
  FastCdc cdc(kParams, crypto::Key{});
  Bytes data = RandomData(2 << 20, 3);
  Bytes shifted = data;
  shifted.insert(shifted.begin() + 1000, {1, 2, 3, 4, 5});
  auto a = Cuts(cdc, data);
  auto b = Cuts(cdc, shifted);
  std::set<size_t> moved;
  for (size_t c : b) moved.insert(c - 5);
  size_t kept = 0;
  for (size_t c : a) kept += moved.count(c);
  EXPECT_GT(kept, a.size() * 9 / 10);  // almost every later boundary survives
}

TEST(FastCdc, StreamingMatchesWholeBuffer) {
  FastCdc cdc(kParams, crypto::Key{});
  Bytes data = RandomData(1 << 20, 4);
  auto whole = Cuts(cdc, data);
  // Feed windows of at least max_size bytes, as the archiver does.
  std::vector<size_t> streamed;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t window = std::min(data.size() - pos, size_t{kParams.max_size} + 123);
    bool eof = pos + window == data.size();
    size_t cut = cdc.NextCut(ByteView(data).subspan(pos, window), eof);
    ASSERT_LE(cut, window);
    pos += cut;
    streamed.push_back(pos);
  }
  EXPECT_EQ(whole, streamed);
}

TEST(FastCdc, AsksForMoreDataBeforeEof) {
  FastCdc cdc(kParams, crypto::Key{});
  Bytes small = RandomData(1000, 5);
  EXPECT_EQ(cdc.NextCut(small, false), small.size() + 1);
  EXPECT_EQ(cdc.NextCut(small, true), small.size());
  // Never more than max_size, even where the content offers no boundary.
  Bytes zeros(kParams.max_size * 3, 0);
  size_t cut = cdc.NextCut(zeros, true);
  EXPECT_GE(cut, kParams.min_size);
  EXPECT_LE(cut, kParams.max_size);
}

TEST(FastCdc, ValidatesParams) {
  EXPECT_TRUE(ValidChunkerParams(ChunkerParams{}));
  EXPECT_FALSE(ValidChunkerParams({1024, 3000, 9000}));  // avg not a power of two
  EXPECT_FALSE(ValidChunkerParams({8192, 4096, 65536}));
}

}  // namespace
}  // namespace backspan
