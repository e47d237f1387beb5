#include "backend/location.h"

#include "backend/local/local_backend.h"

namespace backspan {

const char* FileTypeDir(FileType type) {
  switch (type) {
    case FileType::kConfig: return "";
    case FileType::kKey: return "keys";
    case FileType::kPack: return "data";
    case FileType::kIndex: return "index";
    case FileType::kSnapshot: return "snapshots";
    case FileType::kLock: return "locks";
    case FileType::kDeletion: return "deletions";
  }
  return "";
}

Result<Location> ParseLocation(const std::string& text) {
  if (text.empty())
    return Status::InvalidArgument(
        "no repository given: use --repo or set BACKSPAN_REPOSITORY");
  auto strip = [&](const std::string& prefix) { return text.substr(prefix.size()); };
  if (text.rfind("azure://", 0) == 0) return Location{Location::Scheme::kAzure, strip("azure://")};
  if (text.rfind("s3://", 0) == 0) return Location{Location::Scheme::kS3, strip("s3://")};
  if (text.rfind("local:", 0) == 0) return Location{Location::Scheme::kLocal, strip("local:")};
  if (text.find("://") != std::string::npos)
    return Status::InvalidArgument("unknown repository scheme in '" + text +
                                   "' (use a path, local:PATH, azure:// or s3://)");
  return Location{Location::Scheme::kLocal, text};
}

Result<std::unique_ptr<Backend>> OpenBackend(const Location& location, Env* env) {
  switch (location.scheme) {
    case Location::Scheme::kLocal:
      return std::unique_ptr<Backend>(new LocalBackend(env, location.path));
    case Location::Scheme::kAzure:
      return Status::Unsupported("the azure:// backend is not available in this build yet");
    case Location::Scheme::kS3:
      return Status::Unsupported("the s3:// backend is not available in this build yet");
  }
  return Status::Internal("unreachable");
}

}  // namespace backspan
