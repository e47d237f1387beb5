// A Backend decorator that reports slow storage requests as span events on
// the job's span, whatever the backend underneath (local, Azure, S3).
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"
#include "trace/tracer.h"

namespace backspan {

class Env;

// Wraps `inner`; requests taking at least `slow_ns` add a
// "backspan.storage.slow_request" event to `span` (which must outlive this).
std::unique_ptr<Backend> NewTracedBackend(std::unique_ptr<Backend> inner, const trace::Span* span, Env* env,
                                          int64_t slow_ns = 1'000'000'000);

}  // namespace backspan
