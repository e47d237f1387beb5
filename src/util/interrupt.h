// Interrupting a job (Ctrl-C, SIGTERM from a service manager): the command
// line's signal handler requests it; the engine's long loops poll it
// between units of work (a directory entry, a chunk, a blob, a pack) and
// stop with an kInterrupted status, releasing what they hold on the way
// out, which the command line answers with exit code 130 as restic does.
#pragma once

#include <cstdint>

#include "util/status.h"

namespace backspan {

// Safe from a signal handler.
void RequestInterrupt() noexcept;
bool InterruptRequested() noexcept;
// Forgets a request (tests run several jobs in one process).
void ClearInterrupt() noexcept;

// Status::Interrupted naming what stopped.
Status InterruptedStatus(const char* what);

// Sleeps `ns`, or until an interrupt is requested; false if it was.
bool SleepUnlessInterrupted(int64_t ns);

}  // namespace backspan
