// backspan_fault: the backspan command line on a fault-injecting Env, for
// the crash and I/O-error harness (tests/fault/test_faults.py).
//
// BACKSPAN_FAULT selects one fault; counting is over this process's
// operations of the named kind, from 1:
//   crash:N          SIGKILL at the N-th write-side operation (create,
//                    append, fsync, rename, remove, directory fsync, and a
//                    restore's mkdir, link, truncate, metadata); an append
//                    (any write) writes half its data first
//   count            inject nothing; print "fault-ops: N" (the write-side
//                    operations) on stderr at exit, to choose crash points
//   OP:ERRNO:N       the N-th OP fails with ERRNO (EIO or ENOSPC); OP is
//                    create, append (any write; half the data lands: a short
//                    write), fsync, rename, remove, mkdir, link (symlinks,
//                    hard links, special files), truncate or metadata
//   slow-read:MS     every read of a file outside the repository takes MS
//                    milliseconds longer: a slow source disk, for long jobs
//   slow-repo-read:MS  every read of a repository file takes MS longer: slow
//                    storage, for long restores, checks and prunes
// Only files under the repository (BACKSPAN_REPOSITORY) are affected, or
// under BACKSPAN_FAULT_SCOPE if set (a cloud repository's files are not
// local: its packs wait in temporary files there, TMPDIR; a restore's
// target).
#include <cerrno>
#include <chrono>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/commands.h"
#include "fault_env.h"

using backspan::testing::FaultEnv;

namespace {

long counter = 0;

bool WriteSide(FaultEnv::Op op) {
  return op != FaultEnv::Op::kOpenForRead && op != FaultEnv::Op::kRead;
}

}  // namespace

int main(int argc, char** argv) {
  const char* spec = std::getenv("BACKSPAN_FAULT");
  const char* repo = std::getenv("BACKSPAN_FAULT_SCOPE");
  if (!repo || !*repo) repo = std::getenv("BACKSPAN_REPOSITORY");
  if (spec && *spec) {
    static FaultEnv env(backspan::Env::Default());
    std::string s = spec, scope = repo ? repo : "";
    if (s == "count") {
      env.fault = [scope](FaultEnv::Op op, const std::string& path) {
        if (WriteSide(op) && path.rfind(scope, 0) == 0) ++counter;
        return 0;
      };
      std::atexit([] { std::fprintf(stderr, "fault-ops: %ld\n", counter); });
    } else if (s.rfind("crash:", 0) == 0) {
      long n = std::atol(s.c_str() + 6);
      env.fault = [n, scope](FaultEnv::Op op, const std::string& path) {
        if (!WriteSide(op) || path.rfind(scope, 0) != 0) return 0;
        return ++counter == n ? FaultEnv::kCrash : 0;
      };
    } else if (s.rfind("slow-read:", 0) == 0 || s.rfind("slow-repo-read:", 0) == 0) {
      const bool in_repo = s.rfind("slow-repo-read:", 0) == 0;
      long ms = std::atol(s.c_str() + s.find(':') + 1);
      env.fault = [ms, scope, in_repo](FaultEnv::Op op, const std::string& path) {
        if (op == FaultEnv::Op::kRead && (path.rfind(scope, 0) == 0) == in_repo)
          std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        return 0;
      };
    } else {
      size_t a = s.find(':'), b = s.rfind(':');
      std::string op_name = s.substr(0, a), err_name = s.substr(a + 1, b - a - 1);
      long n = std::atol(s.c_str() + b + 1);
      int err = err_name == "ENOSPC" ? ENOSPC : EIO;
      FaultEnv::Op op = op_name == "create"     ? FaultEnv::Op::kNewWritableFile
                        : op_name == "append"   ? FaultEnv::Op::kAppend
                        : op_name == "fsync"    ? FaultEnv::Op::kSync
                        : op_name == "rename"   ? FaultEnv::Op::kRename
                        : op_name == "mkdir"    ? FaultEnv::Op::kMakeDir
                        : op_name == "link"     ? FaultEnv::Op::kMakeLink
                        : op_name == "truncate" ? FaultEnv::Op::kTruncate
                        : op_name == "metadata" ? FaultEnv::Op::kSetMetadata
                                                : FaultEnv::Op::kRemove;
      env.fault = [op, err, n, scope](FaultEnv::Op o, const std::string& path) {
        if (o != op || path.rfind(scope, 0) != 0) return 0;
        return ++counter == n ? err : 0;
      };
    }
    backspan::Env::SetDefault(&env);
  }
  return backspan::cli::Main(argc, argv);
}
