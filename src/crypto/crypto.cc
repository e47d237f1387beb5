#include "crypto/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <cstring>
#include <memory>

namespace backspan::crypto {
namespace {

constexpr size_t kSaltLen = 16, kNonceLen = 12, kTagLen = 16;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// AES-256-GCM, fetched from the provider once: OpenSSL 3 otherwise looks
// the implementation up again on every EVP_*Init call.
const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// One context per thread and direction, bound to the cipher once: creating
// one per object costs more than encrypting a small blob. Each object then
// only sets its key and nonce.
EVP_CIPHER_CTX* ThreadCipherCtx(bool encrypt) {
  auto make = [](bool enc) {
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    EVP_CipherInit_ex(ctx.get(), Aes256Gcm(), nullptr, nullptr, nullptr, enc ? 1 : 0);
    return ctx;
  };
  thread_local CipherCtx enc_ctx = make(true);
  thread_local CipherCtx dec_ctx = make(false);
  return encrypt ? enc_ctx.get() : dec_ctx.get();
}

Key DeriveObjectKey(const Key& key, const uint8_t* salt) {
  Digest d = HmacSha256(key, ByteView(salt, kSaltLen));
  Key k;
  std::memcpy(k.data(), d.data(), k.size());
  return k;
}

}  // namespace

Status Init() {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialise");
  return Status::Ok();
}

void RandomBytes(uint8_t* out, size_t n) { randombytes_buf(out, n); }

Key RandomKey() {
  Key k;
  RandomBytes(k.data(), k.size());
  return k;
}

bool SecretEquals(std::string_view given, std::string_view expected) {
  // Digests first, so the comparison always covers 32 bytes.
  auto digest = [](std::string_view s) { return Sha256(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size())); };
  const Digest a = digest(given), b = digest(expected);
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Digest Sha256(ByteView data) {
  Digest d;
  SHA256(data.data(), data.size(), d.data());
  return d;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256Stream::Update(ByteView data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

Digest Sha256Stream::Final() {
  Digest d;
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), d.data(), &len);
  return d;
}

Digest HmacSha256(const Key& key, ByteView data) { return HmacSha256(ByteView(key.data(), key.size()), data); }

Digest HmacSha256(ByteView key, ByteView data) {
  Digest d;
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), d.data(), &len);
  return d;
}

void SealAppend(const Key& key, ByteView plaintext, ByteView aad, Bytes* out) {
  size_t start = out->size();
  out->resize(start + kSealOverhead + plaintext.size());
  uint8_t* salt = out->data() + start;
  uint8_t* nonce = salt + kSaltLen;
  uint8_t* ct = nonce + kNonceLen;
  RandomBytes(salt, kSaltLen + kNonceLen);
  Key object_key = DeriveObjectKey(key, salt);

  EVP_CIPHER_CTX* ctx = ThreadCipherCtx(true);
  int len = 0;
  // These calls cannot fail with valid lengths and a supported cipher.
  EVP_EncryptInit_ex(ctx, nullptr, nullptr, object_key.data(), nonce);
  if (!aad.empty()) EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size()));
  EVP_EncryptUpdate(ctx, ct, &len, plaintext.data(), static_cast<int>(plaintext.size()));
  EVP_EncryptFinal_ex(ctx, ct + len, &len);
  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagLen, ct + plaintext.size());
  sodium_memzero(object_key.data(), object_key.size());
}

Bytes Seal(const Key& key, ByteView plaintext, ByteView aad) {
  Bytes out;
  SealAppend(key, plaintext, aad, &out);
  return out;
}

Result<Bytes> Open(const Key& key, ByteView sealed, ByteView aad) {
  if (sealed.size() < kSealOverhead)
    return Status::Corruption("encrypted object is too short (" + std::to_string(sealed.size()) +
                              " bytes)");
  const uint8_t* salt = sealed.data();
  const uint8_t* nonce = salt + kSaltLen;
  const uint8_t* ct = nonce + kNonceLen;
  size_t ct_len = sealed.size() - kSealOverhead;
  Key object_key = DeriveObjectKey(key, salt);

  Bytes plain(ct_len);
  EVP_CIPHER_CTX* ctx = ThreadCipherCtx(false);
  int len = 0;
  bool ok = EVP_DecryptInit_ex(ctx, nullptr, nullptr, object_key.data(), nonce) == 1 &&
            (aad.empty() ||
             EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1) &&
            EVP_DecryptUpdate(ctx, plain.data(), &len, ct, static_cast<int>(ct_len)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagLen,
                                const_cast<uint8_t*>(ct + ct_len)) == 1 &&
            EVP_DecryptFinal_ex(ctx, plain.data() + len, &len) == 1;
  sodium_memzero(object_key.data(), object_key.size());
  if (!ok) return Status::Corruption("authentication failed");
  return plain;
}

KdfParams DefaultKdfParams() {
  // 3 passes over 48 MiB: more work per guess than libsodium's interactive
  // 2 x 64 MiB, with 16 MiB less memory, which is every job's peak.
  return {3, uint64_t{48} << 20};
}

Result<Key> DeriveKeyFromPassword(const std::string& password, ByteView salt16,
                                  const KdfParams& params) {
  if (salt16.size() != crypto_pwhash_SALTBYTES)
    return Status::Corruption("key file has a salt of the wrong length");
  if (params.opslimit < crypto_pwhash_OPSLIMIT_MIN || params.opslimit > 64 ||
      params.memlimit < crypto_pwhash_MEMLIMIT_MIN || params.memlimit > (size_t{4} << 30))
    return Status::Corruption("key file has implausible Argon2id parameters");
  Key out;
  if (crypto_pwhash(out.data(), out.size(), password.data(), password.size(), salt16.data(),
                    params.opslimit, static_cast<size_t>(params.memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Status::Internal("Argon2id failed (out of memory?)");
  return out;
}

bool ConstantTimeEquals(ByteView a, ByteView b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace backspan::crypto
