// Key files (keys/<id>): the master key wrapped by a key derived from one
// password with Argon2id. Any number of key files may open one repository.
#pragma once

#include <cstdint>
#include <string>

#include "crypto/crypto.h"
#include "repository/master_key.h"
#include "util/status.h"

namespace backspan {

struct KeyFile {
  int64_t created_ns = 0;
  std::string hostname;
  std::string username;
  crypto::KdfParams kdf;
  Bytes salt;         // 16 bytes
  Bytes wrapped_key;  // Seal(password key, encryption || id_key)
};

// Wraps `master` under `password` with fresh salt and default KDF params.
Result<KeyFile> NewKeyFile(const MasterKey& master, const std::string& password,
                           const std::string& hostname, const std::string& username,
                           int64_t now_ns);
// Unwraps the master key; kWrongPassword if the password does not open it.
Result<MasterKey> UnlockKeyFile(const KeyFile& key_file, const std::string& password);

Bytes SerializeKeyFile(const KeyFile& key_file);
// kCorruption with a clear message if the file is damaged.
Result<KeyFile> ParseKeyFile(ByteView data);

}  // namespace backspan
