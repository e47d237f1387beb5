#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <sys/wait.h>

#include <cerrno>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "cli/context.h"
#include "cli/telemetry.h"

namespace backspan::cli {

Result<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read password file " + path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return Status::InvalidArgument("password file " + path + " is empty");
  return line;
}

Result<std::string> RunPasswordCommand(const std::string& command, const trace::Span& span) {
  // The command continues the job's trace: TRACEPARENT names the current span.
  std::string saved;
  const char* old = std::getenv("TRACEPARENT");
  if (old) saved = old;
  if (span.recording()) setenv("TRACEPARENT", span.context().ToTraceparent().c_str(), 1);
  FILE* pipe = popen(command.c_str(), "r");
  std::string out;
  if (pipe) {
    char buf[512];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  }
  int status = pipe ? pclose(pipe) : -1;
  if (old) setenv("TRACEPARENT", saved.c_str(), 1);
  else unsetenv("TRACEPARENT");
  if (!pipe || status == -1) return Status::FromErrno(errno, "run password command");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Status::InvalidArgument("password command '" + command + "' failed (exit status " +
                                   std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  std::string line = out.substr(0, out.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return Status::InvalidArgument("password command '" + command + "' printed no password");
  return line;
}

static Result<std::string> ReadLineNoEcho(int fd, const std::string& prompt) {
  (void)!::write(fd, prompt.data(), prompt.size());
  struct termios old_tio, tio;
  bool have_tio = tcgetattr(fd, &old_tio) == 0;
  if (have_tio) {
    tio = old_tio;
    tio.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSAFLUSH, &tio);
  }
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  if (have_tio) tcsetattr(fd, TCSAFLUSH, &old_tio);
  (void)!::write(fd, "\n", 1);
  return line;
}

Result<std::string> PromptPassword(const std::string& prompt, bool confirm) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0 || !isatty(STDIN_FILENO)) {
    if (fd >= 0) ::close(fd);
    return Status::InvalidArgument(
        "no password given and no terminal to ask on: set BACKSPAN_PASSWORD, BACKSPAN_PASSWORD_FILE or "
        "BACKSPAN_PASSWORD_COMMAND, or use --password-file or --password-command");
  }
  auto first = ReadLineNoEcho(fd, prompt);
  Result<std::string> result = first;
  if (first.ok() && confirm) {
    auto second = ReadLineNoEcho(fd, "enter password again: ");
    if (second.ok() && *second != *first) result = Status::InvalidArgument("passwords do not match");
  }
  ::close(fd);
  if (result.ok() && result->empty()) return Status::InvalidArgument("an empty password is not allowed");
  return result;
}

Result<std::string> ReadPassword(const GlobalOptions& g, bool confirm, const trace::Span& span) {
  if (!g.password_file.empty()) return ReadPasswordFile(g.password_file);
  if (!g.password_command.empty()) return RunPasswordCommand(g.password_command, span);
  if (const char* f = std::getenv("BACKSPAN_PASSWORD_FILE"); f && *f) return ReadPasswordFile(f);
  if (const char* c = std::getenv("BACKSPAN_PASSWORD_COMMAND"); c && *c) return RunPasswordCommand(c, span);
  if (const char* p = std::getenv("BACKSPAN_PASSWORD"); p && *p) return std::string(p);
  return PromptPassword(confirm ? "enter password for new repository: " : "enter password for repository: ",
                        confirm);
}

}  // namespace backspan::cli
