// zstd compression of blobs, with a cheap test that skips data that would
// not shrink (already compressed or encrypted files).
#pragma once

#include <optional>
#include <string_view>

#include "util/bytes.h"
#include "util/status.h"

namespace backspan {

enum class CompressionMode { kOff, kAuto, kMax };

// Parses "off", "auto" or "max".
std::optional<CompressionMode> ParseCompressionMode(std::string_view text);

// Compresses `data` into `scratch` and returns the compressed length, or 0
// if the data should be stored raw: mode is off, or the data is
// incompressible. `scratch` only grows, so callers can reuse it. Thread-safe;
// each thread keeps its own zstd context.
size_t CompressBlob(CompressionMode mode, ByteView data, Bytes* scratch);

// Decompresses a blob whose uncompressed length is `raw_length`.
Result<Bytes> DecompressBlob(ByteView data, uint64_t raw_length);

}  // namespace backspan
