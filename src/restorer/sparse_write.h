// Writing restored file content so that runs of zeros stay holes.
#pragma once

#include <cstdint>

#include "env/directory.h"
#include "util/bytes.h"
#include "util/status.h"

namespace backspan {

// Writes `data` at `offset` of `file`, leaving 4 KiB blocks of zeros as
// holes. `*end` becomes the end of the last byte actually written, if later
// (a file that ends in a hole needs its size set afterwards).
Status WriteSparse(PositionalFile* file, uint64_t offset, ByteView data, uint64_t* end);

}  // namespace backspan
