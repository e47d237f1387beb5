// Repository locations: a local path ("/srv/backup" or "local:/srv/backup"),
// "azure://container/prefix" and "s3://bucket/prefix" (backend/open/open_backend.h
// opens them).
#pragma once

#include <string>

#include "util/status.h"

namespace backspan {

struct Location {
  enum class Scheme { kLocal, kAzure, kS3 } scheme = Scheme::kLocal;
  std::string path;  // local path, or container/bucket + prefix
};

Result<Location> ParseLocation(const std::string& text);

}  // namespace backspan
