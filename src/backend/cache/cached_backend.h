// A local cache in front of a remote backend, of what the engine reads on
// every run: key files, index files, snapshots, and the packs that hold
// trees. An incremental backup or `snapshots` against a cloud repository
// then reads them from disk instead of downloading them again.
//
// Every cached file is named by the SHA-256 of its content, like the
// repository's own files (a tree pack by its pack id), so an entry is
// verified by hashing it before it is used; a damaged, truncated or stale
// entry is removed and fetched again, never trusted. The config, the only
// file not named by its hash, is never cached.
//
// Layout: DIR/<first 24 hex digits of SHA-256 of the location>/<type>/<name>.
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"
#include "env/env.h"

namespace backspan {

// The default cache directory: $XDG_CACHE_HOME/backspan, else
// $HOME/.cache/backspan; empty if neither is set.
std::string DefaultCacheDir();

// Wraps `inner` with a cache under `dir` (created on first write).
std::unique_ptr<Backend> NewCachedBackend(std::unique_ptr<Backend> inner, const std::string& dir, Env* env);

}  // namespace backspan
