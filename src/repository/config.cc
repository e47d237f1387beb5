#include "repository/config.h"

#include <nlohmann/json.hpp>

#include "repository/object_aad.h"
#include "util/hex.h"
#include "util/json_number.h"

namespace backspan {

Config NewConfig(const ChunkerParams& params) {
  Config c;
  c.id = HexEncode(crypto::RandomKey());
  c.chunker = params;
  c.chunker_key = crypto::RandomKey();
  return c;
}

Bytes EncodeConfig(const Config& config, const MasterKey& key) {
  nlohmann::json j = {
      {"version", config.version},
      {"id", config.id},
      {"chunker",
       {{"algorithm", "fastcdc"},
        {"min_size", config.chunker.min_size},
        {"avg_size", config.chunker.avg_size},
        {"max_size", config.chunker.max_size},
        {"gear_key", HexEncode(config.chunker_key)}}},
  };
  return crypto::Seal(key.encryption, AsBytes(j.dump()), aad::Of(aad::kConfig));
}

Result<Config> DecodeConfig(ByteView sealed, const MasterKey& key) {
  auto plain = crypto::Open(key.encryption, sealed, aad::Of(aad::kConfig));
  if (!plain.ok()) return plain.status().WithContext("repository config");
  auto j = nlohmann::json::parse(plain->begin(), plain->end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("repository config is not valid JSON");
  Config c;
  try {
    c.version = IntegerField<int>(j, "version");
    c.id = j.at("id").get<std::string>();
    const auto& ch = j.at("chunker");
    c.chunker.min_size = IntegerField<uint32_t>(ch, "min_size");
    c.chunker.avg_size = IntegerField<uint32_t>(ch, "avg_size");
    c.chunker.max_size = IntegerField<uint32_t>(ch, "max_size");
    auto gk = HexDecode(ch.at("gear_key").get<std::string>());
    if (!gk || gk->size() != 32) return Status::Corruption("repository config has a bad gear key");
    std::copy(gk->begin(), gk->end(), c.chunker_key.begin());
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("repository config: ") + e.what());
  }
  if (c.version != kRepositoryVersion)
    return Status::Unsupported("repository format version " + std::to_string(c.version) +
                               " is not supported by this backspan");
  if (!ValidChunkerParams(c.chunker)) return Status::Corruption("repository config has invalid chunker sizes");
  return c;
}

}  // namespace backspan
