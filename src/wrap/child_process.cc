#include "wrap/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace backspan::wrap {
namespace {

// Splits what arrives on one pipe into lines.
class LineSplitter {
 public:
  explicit LineSplitter(const std::function<void(std::string_view)>& fn) : fn_(fn) {}
  void Feed(const char* data, size_t n) {
    buffer_.append(data, n);
    size_t start = 0, nl;
    while ((nl = buffer_.find('\n', start)) != std::string::npos) {
      if (fn_) fn_(std::string_view(buffer_).substr(start, nl - start));
      start = nl + 1;
    }
    buffer_.erase(0, start);
    // A line without an end (a progress bar redrawn with \r) stays bounded.
    if (buffer_.size() > (1 << 20)) buffer_.erase(0, buffer_.size() - (1 << 16));
  }
  void Flush() {
    if (!buffer_.empty() && fn_) fn_(buffer_);
    buffer_.clear();
  }

 private:
  const std::function<void(std::string_view)>& fn_;
  std::string buffer_;
};

void WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // our own output is gone; keep draining the child
    data += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

Result<int> RunChild(const std::vector<std::string>& argv, const ChildOptions& options) {
  if (argv.empty()) return Status::InvalidArgument("no command to run");
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Status::FromErrno(e, "pipe");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  if (options.null_stdin) posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The environment: the inherited one, with the given entries replacing theirs.
  std::vector<std::string> env_entries;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    const std::string_view key = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& o : options.environment)
      if (std::string_view(o).substr(0, o.find('=')) == key) replaced = true;
    if (!replaced) env_entries.emplace_back(entry);
  }
  env_entries.insert(env_entries.end(), options.environment.begin(), options.environment.end());
  std::vector<char*> envp;
  for (auto& e : env_entries) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return Status::NotFound("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  if (options.on_start) options.on_start(pid);

  LineSplitter out_lines(options.on_stdout), err_lines(options.on_stderr);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        continue;
      }
      if (options.pass_through) WriteAll(i == 0 ? STDOUT_FILENO : STDERR_FILENO, buf, static_cast<size_t>(n));
      (i == 0 ? out_lines : err_lines).Feed(buf, static_cast<size_t>(n));
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  out_lines.Flush();
  err_lines.Flush();
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Status::FromErrno(errno, "waiting for " + argv[0]);
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

}  // namespace backspan::wrap
