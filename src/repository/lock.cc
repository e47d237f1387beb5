#include "repository/lock.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>

#include "crypto/crypto.h"
#include "util/hex.h"
#include "util/time_format.h"
#include "util/json_number.h"

namespace backspan {

std::string LockToJson(const LockInfo& l) {
  nlohmann::json j = {
      {"job", l.job},
      {"exclusive", l.exclusive},
      {"command", l.command},
      {"hostname", l.hostname},
      {"username", l.username},
      {"pid", l.pid},
      {"started", FormatRfc3339(l.started_ns)},
      {"refreshed", FormatRfc3339(l.refreshed_ns)},
  };
  return j.dump();
}

Result<LockInfo> LockFromJson(ByteView text) {
  try {
    auto j = nlohmann::json::parse(text.begin(), text.end());
    LockInfo l;
    l.job = j.at("job").get<std::string>();
    l.exclusive = j.at("exclusive").get<bool>();
    l.command = j.at("command").get<std::string>();
    l.hostname = j.at("hostname").get<std::string>();
    l.username = j.at("username").get<std::string>();
    l.pid = IntegerField<int64_t>(j, "pid");
    auto started = ParseRfc3339(j.at("started").get<std::string>());
    auto refreshed = ParseRfc3339(j.at("refreshed").get<std::string>());
    if (!started || !refreshed) return Status::Corruption("lock file has a malformed time");
    l.started_ns = *started;
    l.refreshed_ns = *refreshed;
    return l;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("lock file is malformed: ") + e.what());
  }
}

namespace {

std::string Describe(const LockInfo& l) {
  return "pid " + std::to_string(l.pid) + " on " + l.hostname + " (" + l.command + ", since " +
         FormatRfc3339(l.started_ns) + ")";
}

}  // namespace

Result<std::vector<LockInfo>> ListLocks(Repository* repo, size_t* unreadable) {
  ASSIGN_OR_RETURN(auto names, repo->backend()->List(FileType::kLock));
  std::vector<LockInfo> out;
  for (const auto& name : names) {
    auto plain = repo->LoadSealed(FileType::kLock, name);
    Result<LockInfo> lock = plain.ok() ? LockFromJson(*plain) : Result<LockInfo>(plain.status());
    if (!lock.ok()) {
      if (unreadable) ++*unreadable;
      continue;
    }
    lock->name = name;
    out.push_back(std::move(*lock));
  }
  return out;
}

bool IsStale(const LockInfo& lock, int64_t now_ns, const std::string& this_host) {
  if (now_ns - lock.refreshed_ns > kLockStaleAfter) return true;
  if (lock.hostname == this_host && lock.pid > 0 &&
      ::kill(static_cast<pid_t>(lock.pid), 0) != 0 && errno == ESRCH)
    return true;
  return false;
}

Result<std::unique_ptr<RepositoryLock>> RepositoryLock::Acquire(Repository* repo, bool exclusive,
                                                                const std::string& command,
                                                                const std::string& hostname,
                                                                const std::string& username) {
  std::unique_ptr<RepositoryLock> lock(new RepositoryLock(repo));
  LockInfo& l = lock->info_;
  l.job = HexEncode(crypto::RandomKey()).substr(0, 16);
  l.exclusive = exclusive;
  l.command = command;
  l.hostname = hostname;
  l.username = username;
  l.pid = ::getpid();
  l.started_ns = l.refreshed_ns = repo->env()->NowUnixNanos();
  RETURN_IF_ERROR(lock->Write());
  if (exclusive) {
    // Write first, then look: of two racing exclusive jobs at least one
    // sees the other and backs off.
    auto others = ListLocks(repo);
    if (!others.ok()) return others.status();
    int64_t now = repo->env()->NowUnixNanos();
    for (const auto& o : *others) {
      if (o.job == l.job || !o.exclusive || IsStale(o, now, hostname)) continue;
      return Status::Locked("the repository is locked exclusively by " + Describe(o) +
                            "; wait for it to finish, or run 'backspan unlock' if it is stale");
    }
  }
  lock->refresher_ = std::thread([p = lock.get()] { p->RefreshLoop(); });
  return lock;
}

Status RepositoryLock::Write() {
  std::string old = info_.name;
  ASSIGN_OR_RETURN(info_.name, repo_->SaveSealed(FileType::kLock, AsBytes(LockToJson(info_))));
  if (!old.empty() && old != info_.name) (void)repo_->backend()->Remove(FileType::kLock, old);
  return Status::Ok();
}

void RepositoryLock::RefreshLoop() {
  std::unique_lock lk(mu_);
  while (!wake_.wait_for(lk, std::chrono::nanoseconds(kLockRefreshEvery), [&] { return stopping_; })) {
    info_.refreshed_ns = repo_->env()->NowUnixNanos();
    Status st = Write();
    if (!st.ok() && refresh_error_.ok()) refresh_error_ = st.WithContext("refresh the repository lock");
  }
}

Status RepositoryLock::Release() {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return Status::Ok();
    stopping_ = true;
  }
  wake_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  Status st = repo_->backend()->Remove(FileType::kLock, info_.name);
  if (!refresh_error_.ok()) return refresh_error_;
  return st;
}

RepositoryLock::~RepositoryLock() {
  // The destructor runs on error paths too; removal is best effort there.
  (void)Release();
}

}  // namespace backspan
