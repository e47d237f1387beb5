// The POSIX Env's streaming (O_DIRECT) writer must produce exactly the bytes
// appended, whatever the sizes and alignment of the appends.
#include <gtest/gtest.h>

#include "env/env.h"
#include "test_util.h"

namespace backspan {
namespace {

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 131 + (i >> 12));
  return b;
}

class StreamOnceTest : public ::testing::TestWithParam<std::vector<size_t>> {};

TEST_P(StreamOnceTest, WritesExactlyWhatWasAppended) {
  testing::TempDir dir;
  Env* env = Env::Default();
  std::string path = dir.Sub("pack");
  auto file = env->NewWritableFile(path, WriteHint::kStreamOnce);
  ASSERT_TRUE(file.ok()) << file.status().message();
  Bytes expected;
  uint8_t seed = 1;
  for (size_t n : GetParam()) {
    Bytes part = Pattern(n, seed++);
    ASSERT_TRUE((*file)->Append(part).ok());
    expected.insert(expected.end(), part.begin(), part.end());
  }
  ASSERT_TRUE((*file)->Sync().ok());
  // Appending after a sync still works (synchronously).
  Bytes tail = Pattern(5000, 99);
  ASSERT_TRUE((*file)->Append(tail).ok());
  expected.insert(expected.end(), tail.begin(), tail.end());
  ASSERT_TRUE((*file)->Close().ok());
  auto got = ReadWholeFile(env, path);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), expected.size());
  EXPECT_TRUE(std::equal(got->begin(), got->end(), expected.begin()));
}

INSTANTIATE_TEST_SUITE_P(Sizes, StreamOnceTest,
                         ::testing::Values(std::vector<size_t>{}, std::vector<size_t>{1},
                                           std::vector<size_t>{4096},
                                           std::vector<size_t>{1 << 20},
                                           std::vector<size_t>{(1 << 20) + 17, 4095, 3 << 20, 1},
                                           std::vector<size_t>{8 << 20, 123457}));

TEST(StreamOnceTest, RefusesAnExistingFile) {
  testing::TempDir dir;
  testing::WriteFile(dir.Sub("x"), "old");
  auto file = Env::Default()->NewWritableFile(dir.Sub("x"), WriteHint::kStreamOnce);
  EXPECT_FALSE(file.ok());
  EXPECT_EQ(testing::ReadFile(dir.Sub("x")), "old");
}

}  // namespace
}  // namespace backspan
