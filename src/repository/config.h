// The repository config file: format version, repository id and the
// chunker parameters fixed at init. Stored sealed with the master key.
#pragma once

#include <string>

#include "chunker/fastcdc.h"
#include "repository/master_key.h"
#include "util/status.h"

namespace backspan {

inline constexpr int kRepositoryVersion = 1;

struct Config {
  int version = kRepositoryVersion;
  std::string id;  // 64 hex chars, random
  ChunkerParams chunker;
  crypto::Key chunker_key{};  // keys the gear table
};

Config NewConfig(const ChunkerParams& params);
Bytes EncodeConfig(const Config& config, const MasterKey& key);
Result<Config> DecodeConfig(ByteView sealed, const MasterKey& key);

}  // namespace backspan
