#include "backend/location.h"

#include "backend/backend.h"

#include <cctype>
#include <cstring>
#include <optional>

#include "util/text.h"

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

Result<std::vector<std::pair<std::string, uint64_t>>> Backend::ListSizes(FileType type) {
  ASSIGN_OR_RETURN(auto names, List(type));
  std::vector<std::pair<std::string, uint64_t>> out;
  for (auto& name : names) {
    auto size = Size(type, name);
    if (!size.ok() && size.status().code() == ErrorCode::kNotFound) continue;  // removed meanwhile
    if (!size.ok()) return size.status();
    out.emplace_back(std::move(name), *size);
  }
  return out;
}

namespace {

// The scheme of "name:rest" when name looks like one (RFC 3986: a letter,
// then letters, digits, '+', '-' or '.'), as restic's locations begin.
std::optional<std::string> SchemePrefix(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || !std::isalpha(static_cast<unsigned char>(text[0]))) return std::nullopt;
  for (size_t i = 1; i < colon; ++i)
    if (!std::isalnum(static_cast<unsigned char>(text[i])) && !std::strchr("+-.", text[i])) return std::nullopt;
  return AsciiLower(text.substr(0, colon));
}

}  // namespace

Result<Location> ParseLocation(const std::string& text) {
  if (text.empty())
    return Status::InvalidArgument(
        "no repository given: use --repo or set BACKSPAN_REPOSITORY");
  auto strip = [&](const std::string& prefix) { return text.substr(prefix.size()); };
  if (text.rfind("azure://", 0) == 0) return Location{Location::Scheme::kAzure, strip("azure://")};
  if (text.rfind("s3://", 0) == 0) return Location{Location::Scheme::kS3, strip("s3://")};
  if (text.rfind("local:", 0) == 0) return Location{Location::Scheme::kLocal, strip("local:")};
  // "sftp:user@host:/srv", "rest:http://…", "s3:host/bucket": another tool's
  // location syntax, never a directory to create under that name.
  auto scheme = SchemePrefix(text);
  if (text.find("://") != std::string::npos && (!scheme || text.compare(scheme->size(), 3, "://") == 0))
    return Status::InvalidArgument("unknown repository scheme in '" + text +
                                   "' (use a path, local:PATH, azure:// or s3://)");
  if (scheme) {
    static const std::pair<const char*, const char*> kHints[] = {
        {"s3", "write s3://BUCKET/PREFIX, with AWS_ENDPOINT_URL for an S3-compatible endpoint"},
        {"azure", "write azure://CONTAINER/PREFIX"},
        {"sftp", "backspan has no SFTP backend: mount it (sshfs) and give the local path"},
        {"rest", "backspan has no REST-server backend"},
        {"rclone", "backspan has no rclone backend: 'rclone mount' it and give the local path"},
        {"gs", "backspan has no Google Cloud Storage backend yet"},
        {"b2", "backspan has no Backblaze B2 backend yet (B2 speaks S3: use s3:// with its endpoint)"},
        {"swift", "backspan has no OpenStack Swift backend"},
        {"smb", "mount the share and give the local path"}};
    for (const auto& [name, hint] : kHints)
      if (*scheme == name)
        return Status::InvalidArgument("'" + text + "' is not a location backspan knows: '" + *scheme +
                                       ":' is restic's syntax; " + hint + " (locations: a path, local:PATH, azure://, s3://)");
    return Status::InvalidArgument("'" + text + "' begins like a location scheme ('" + *scheme +
                                   ":') that backspan does not know; for a local directory whose name holds a "
                                   "colon, write ./" + text);
  }
  return Location{Location::Scheme::kLocal, text};
}

}  // namespace backspan
