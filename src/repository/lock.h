// Repository locks. Every job that reads or writes a repository holds one:
// shared for backup, restore and check; exclusive for forget and prune,
// which remove data. Exclusive locks exclude each other. They do not exclude
// shared locks: removal follows the two-phase protocol in
// docs/repository-format.md, which waits for the jobs that could still use
// what is removed. A lock is a sealed file in locks/, refreshed while held
// and stale once it has not been refreshed for kLockStaleAfter.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "repository/repository.h"

namespace backspan {

inline constexpr int64_t kLockRefreshEvery = 5LL * 60 * 1000000000;
inline constexpr int64_t kLockStaleAfter = 30LL * 60 * 1000000000;

struct LockInfo {
  std::string name;  // file name in locks/
  std::string job;   // random id of the job; kept across refreshes
  bool exclusive = false;
  std::string command, hostname, username;
  int64_t pid = 0;
  int64_t started_ns = 0, refreshed_ns = 0;
};

// A lock file's plaintext (JSON, docs/repository-format.md), and back.
std::string LockToJson(const LockInfo& lock);
Result<LockInfo> LockFromJson(ByteView text);

// Reads every lock. Lock files that cannot be read (being replaced by a
// refresh, or damaged) are skipped and counted in `unreadable` if given.
Result<std::vector<LockInfo>> ListLocks(Repository* repo, size_t* unreadable = nullptr);

// True if the lock's holder is gone: not refreshed for kLockStaleAfter, or
// held by a process on this host that no longer exists.
bool IsStale(const LockInfo& lock, int64_t now_ns, const std::string& this_host);

class RepositoryLock {
 public:
  // Writes a lock for `command` and starts refreshing it. An exclusive lock
  // fails with kLocked, naming the holder, while another live exclusive
  // lock exists.
  static Result<std::unique_ptr<RepositoryLock>> Acquire(Repository* repo, bool exclusive,
                                                         const std::string& command,
                                                         const std::string& hostname,
                                                         const std::string& username);
  // Stops refreshing and removes the lock file.
  ~RepositoryLock();

  // Removes the lock now; reports a failure to remove it or an earlier
  // failure to refresh it.
  Status Release();

  const LockInfo& info() const { return info_; }

 private:
  explicit RepositoryLock(Repository* repo) : repo_(repo) {}
  Status Write();
  void RefreshLoop();

  Repository* repo_;
  LockInfo info_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  Status refresh_error_;
  std::thread refresher_;
};

}  // namespace backspan
