// Crypto wrappers against known vectors, and authenticated encryption
// failing loudly on any change.
#include <gtest/gtest.h>

#include "compress/compressor.h"
#include "crypto/crypto.h"
#include "util/hex.h"

namespace backspan {
namespace {

const std::string kAad = "backspan/test";

class CryptoTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::Init().ok()); }
};

TEST_F(CryptoTest, Sha256KnownVector) {
  EXPECT_EQ(HexEncode(crypto::Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  crypto::Sha256Stream stream;
  stream.Update(AsBytes("a"));
  stream.Update(AsBytes("bc"));
  EXPECT_EQ(stream.Final(), crypto::Sha256(AsBytes("abc")));
}

TEST_F(CryptoTest, HmacSha256KnownVector) {
  crypto::Key key;
  for (int i = 0; i < 32; ++i) key[i] = static_cast<uint8_t>(i);
  // Computed independently with Python's hmac module.
  EXPECT_EQ(HexEncode(crypto::HmacSha256(key, AsBytes("backspan"))),
            "ad67abf744079e6ff933347026dea860eb47f14ca5d32d28af46d9d032aa1de5");
}

TEST_F(CryptoTest, SealOpenRoundTrip) {
  crypto::Key key = crypto::RandomKey();
  Bytes plain(100000);
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<uint8_t>(i * 7);
  Bytes sealed = crypto::Seal(key, plain, AsBytes(kAad));
  EXPECT_EQ(sealed.size(), plain.size() + crypto::kSealOverhead);
  auto opened = crypto::Open(key, sealed, AsBytes(kAad));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, plain);
  // Random salts and nonces: sealing twice never gives the same bytes.
  EXPECT_NE(crypto::Seal(key, plain, AsBytes(kAad)), sealed);
  Bytes empty;
  EXPECT_TRUE(crypto::Open(key, crypto::Seal(key, empty, {}), {}).ok());
}

TEST_F(CryptoTest, AnyChangeIsDetected) {
  crypto::Key key = crypto::RandomKey();
  Bytes sealed = crypto::Seal(key, AsBytes("secret data"), AsBytes(kAad));
  for (size_t i = 0; i < sealed.size(); ++i) {
    Bytes damaged = sealed;
    damaged[i] ^= 0x01;
    EXPECT_EQ(crypto::Open(key, damaged, AsBytes(kAad)).status().code(), ErrorCode::kCorruption) << "byte " << i;
  }
  EXPECT_FALSE(crypto::Open(crypto::RandomKey(), sealed, AsBytes(kAad)).ok());
  // The associated data is authenticated: another one fails.
  EXPECT_EQ(crypto::Open(key, sealed, AsBytes("backspan/other")).status().code(), ErrorCode::kCorruption);
  EXPECT_FALSE(crypto::Open(key, sealed, {}).ok());
  Bytes short_data(10);
  EXPECT_EQ(crypto::Open(key, short_data, {}).status().code(), ErrorCode::kCorruption);
}

TEST_F(CryptoTest, Argon2idIsDeterministicPerSalt) {
  Bytes salt(16, 1), other_salt(16, 2);
  crypto::KdfParams fast{crypto::DefaultKdfParams().opslimit, 8u << 20};
  auto a = crypto::DeriveKeyFromPassword("pw", salt, fast);
  auto b = crypto::DeriveKeyFromPassword("pw", salt, fast);
  auto c = crypto::DeriveKeyFromPassword("pw", other_salt, fast);
  auto d = crypto::DeriveKeyFromPassword("pw2", salt, fast);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_NE(*a, *d);
  // Parameters from a damaged key file are refused, not obeyed.
  crypto::KdfParams absurd{1000, 1ull << 40};
  EXPECT_EQ(crypto::DeriveKeyFromPassword("pw", salt, absurd).status().code(), ErrorCode::kCorruption);
}

TEST_F(CryptoTest, CompressionRoundTripAndIncompressibleDetection) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i % 100) + " of a log\n";
  Bytes scratch;
  size_t n = CompressBlob(CompressionMode::kAuto, AsBytes(text), &scratch);
  ASSERT_GT(n, 0u);
  EXPECT_LT(n, text.size() / 4);
  auto back = DecompressBlob(ByteView(scratch.data(), n), text.size());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(AsString(*back), text);
  EXPECT_EQ(CompressBlob(CompressionMode::kOff, AsBytes(text), &scratch), 0u);

  Bytes random(1 << 20);
  crypto::RandomBytes(random.data(), random.size());
  EXPECT_EQ(CompressBlob(CompressionMode::kAuto, random, &scratch), 0u);  // stored raw
  EXPECT_EQ(DecompressBlob(random, random.size()).status().code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace backspan
