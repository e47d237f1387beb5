// The cryptographic primitives of the repository format. All of them come
// from OpenSSL 3 (SHA-256, HMAC, AES-256-GCM) and libsodium (Argon2id, the
// system CSPRNG); nothing here implements a primitive itself.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/status.h"

namespace backspan::crypto {

using Key = std::array<uint8_t, 32>;
using Digest = std::array<uint8_t, 32>;

// Bytes an object grows by when sealed: 16-byte key salt, 12-byte nonce,
// 16-byte GCM tag.
inline constexpr size_t kSealOverhead = 16 + 12 + 16;

// Must be called once before any other function (initialises libsodium).
Status Init();

void RandomBytes(uint8_t* out, size_t n);
Key RandomKey();

Digest Sha256(ByteView data);

// Whether two secrets (tokens, shared keys) are equal, in time that says
// nothing about how much of a guess was right, nor about the length.
bool SecretEquals(std::string_view given, std::string_view expected);

// SHA-256 over data that arrives in pieces.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(ByteView data);
  Digest Final();

 private:
  void* ctx_;  // EVP_MD_CTX, kept out of this header
};
Digest HmacSha256(const Key& key, ByteView data);
// The same with a key of any length (request signing: AWS SigV4, Azure Shared Key).
Digest HmacSha256(ByteView key, ByteView data);

// Authenticated encryption of one object with AES-256-GCM under a key
// derived for this object alone: subkey = HMAC-SHA256(key, salt) with a
// random 16-byte salt. Per-object keys keep random 96-bit nonces safe no
// matter how many hosts write to one repository. `aad` is authenticated
// but not stored: Open must be given the same bytes.
// Output layout: salt(16) || nonce(12) || ciphertext || tag(16).
Bytes Seal(const Key& key, ByteView plaintext, ByteView aad);
// Appends the sealed form of `plaintext` to `out` (avoids a copy for packs).
void SealAppend(const Key& key, ByteView plaintext, ByteView aad, Bytes* out);

// Verifies and decrypts what Seal produced. Fails with kCorruption
// ("authentication failed") if the data or `aad` differ, or the key is
// wrong: callers say which is likely (a wrong password, a damaged object).
Result<Bytes> Open(const Key& key, ByteView sealed, ByteView aad);

struct KdfParams {
  uint64_t opslimit = 0;
  uint64_t memlimit = 0;  // bytes
};
// Defaults for new key files: 3 passes over 48 MiB, about 0.1 s on a current
// core; more work per guess than libsodium's interactive limits (2 x 64 MiB).
KdfParams DefaultKdfParams();

// Derives a 32-byte key from a password with Argon2id.
Result<Key> DeriveKeyFromPassword(const std::string& password, ByteView salt16,
                                  const KdfParams& params);

// Constant-time comparison.
bool ConstantTimeEquals(ByteView a, ByteView b);

}  // namespace backspan::crypto
