// Repository locations: a local path ("/srv/backup" or "local:/srv/backup"),
// and, reserved for later backends, "azure://container/prefix" and
// "s3://bucket/prefix".
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"
#include "env/env.h"
#include "util/status.h"

namespace backspan {

struct Location {
  enum class Scheme { kLocal, kAzure, kS3 } scheme = Scheme::kLocal;
  std::string path;  // local path, or container/bucket + prefix
};

Result<Location> ParseLocation(const std::string& text);

// Opens the backend for a location. Returns kUnsupported for schemes whose
// backends are not built yet.
Result<std::unique_ptr<Backend>> OpenBackend(const Location& location, Env* env);

}  // namespace backspan
