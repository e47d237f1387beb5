#include "repository/key_file.h"

#include <sodium.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "repository/object_aad.h"
#include "util/hex.h"
#include "util/time_format.h"
#include "util/json_number.h"

namespace backspan {

Result<KeyFile> NewKeyFile(const MasterKey& master, const std::string& password,
                           const std::string& hostname, const std::string& username,
                           int64_t now_ns) {
  KeyFile kf;
  kf.created_ns = now_ns;
  kf.hostname = hostname;
  kf.username = username;
  kf.kdf = crypto::DefaultKdfParams();
  kf.salt.resize(16);
  crypto::RandomBytes(kf.salt.data(), kf.salt.size());
  ASSIGN_OR_RETURN(crypto::Key wrapping, crypto::DeriveKeyFromPassword(password, kf.salt, kf.kdf));
  uint8_t material[64];
  std::memcpy(material, master.encryption.data(), 32);
  std::memcpy(material + 32, master.id_key.data(), 32);
  kf.wrapped_key = crypto::Seal(wrapping, ByteView(material, sizeof material), aad::Of(aad::kKey));
  sodium_memzero(material, sizeof material);
  sodium_memzero(wrapping.data(), wrapping.size());
  return kf;
}

Result<MasterKey> UnlockKeyFile(const KeyFile& key_file, const std::string& password) {
  ASSIGN_OR_RETURN(crypto::Key wrapping,
                   crypto::DeriveKeyFromPassword(password, key_file.salt, key_file.kdf));
  auto material = crypto::Open(wrapping, key_file.wrapped_key, aad::Of(aad::kKey));
  sodium_memzero(wrapping.data(), wrapping.size());
  if (!material.ok()) return Status::WrongPassword("wrong password or no key found");
  if (material->size() != 64) return Status::Corruption("key file holds a master key of the wrong size");
  MasterKey mk;
  std::memcpy(mk.encryption.data(), material->data(), 32);
  std::memcpy(mk.id_key.data(), material->data() + 32, 32);
  sodium_memzero(material->data(), material->size());
  return mk;
}

Bytes SerializeKeyFile(const KeyFile& kf) {
  nlohmann::json j = {
      {"version", 1},
      {"created", FormatRfc3339(kf.created_ns)},
      {"hostname", kf.hostname},
      {"username", kf.username},
      {"kdf", "argon2id"},
      {"opslimit", kf.kdf.opslimit},
      {"memlimit", kf.kdf.memlimit},
      {"salt", Base64Encode(kf.salt)},
      {"data", Base64Encode(kf.wrapped_key)},
  };
  std::string text = j.dump(2) + "\n";
  return Bytes(text.begin(), text.end());
}

Result<KeyFile> ParseKeyFile(ByteView data) {
  auto j = nlohmann::json::parse(data.begin(), data.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("key file is not valid JSON");
  KeyFile kf;
  try {
    const std::string kdf = j.at("kdf").get<std::string>();
    if (kdf != "argon2id")
      return Status::Unsupported("key file uses the key derivation function '" + kdf.substr(0, 32) +
                                 "', which this backspan does not know (written by a newer version?)");
    kf.created_ns = ParseRfc3339(j.value("created", "")).value_or(0);
    kf.hostname = j.value("hostname", "");
    kf.username = j.value("username", "");
    kf.kdf.opslimit = IntegerField<uint64_t>(j, "opslimit");
    kf.kdf.memlimit = IntegerField<uint64_t>(j, "memlimit");
    auto salt = Base64Decode(j.at("salt").get<std::string>());
    auto wrapped = Base64Decode(j.at("data").get<std::string>());
    if (!salt || !wrapped) return Status::Corruption("key file has invalid base64");
    kf.salt = std::move(*salt);
    kf.wrapped_key = std::move(*wrapped);
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("key file is missing a field: ") + e.what());
  }
  return kf;
}

}  // namespace backspan
