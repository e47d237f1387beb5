// A WritableFile that bypasses the page cache with O_DIRECT, for large files
// written once (packs). Internal to the POSIX Env.
#pragma once

#include <memory>
#include <string>

#include "env/env.h"

namespace backspan {

// Creates `path` (failing if it exists) for direct writes. Falls back to
// ordinary buffered writes where the filesystem refuses O_DIRECT (tmpfs,
// some network filesystems), so callers need not care.
Result<std::unique_ptr<WritableFile>> NewPosixDirectFile(const std::string& path);

}  // namespace backspan
