#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "cli/context.h"

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
        "no password given and no terminal to ask on: set BACKSPAN_PASSWORD or "
        "BACKSPAN_PASSWORD_FILE, or use --password-file");
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

Result<std::string> ReadPassword(const GlobalOptions& g, bool confirm) {
  if (!g.password_file.empty()) return ReadPasswordFile(g.password_file);
  if (const char* f = std::getenv("BACKSPAN_PASSWORD_FILE"); f && *f) return ReadPasswordFile(f);
  if (const char* p = std::getenv("BACKSPAN_PASSWORD"); p && *p) return std::string(p);
  return PromptPassword(confirm ? "enter password for new repository: " : "enter password for repository: ",
                        confirm);
}

}  // namespace backspan::cli
