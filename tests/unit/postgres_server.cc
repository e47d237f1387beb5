#include "postgres_server.h"

#include <arpa/inet.h>
#include <glob.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace backspan::testing {
namespace {

// The newest installed server's bin directory (/usr/lib/postgresql/N/bin).
std::string ServerBinDir() {
  glob_t g{};
  std::string best;
  if (glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i)
      if (std::string p = g.gl_pathv[i]; p > best) best = p;
  globfree(&g);
  return best.empty() ? "" : best.substr(0, best.size() - std::string("/initdb").size());
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

}  // namespace

PostgresServer::~PostgresServer() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool PostgresServer::Run(const std::string& command) {
  const std::string full = as_user_.empty() ? command : "runuser -u " + as_user_ + " -- " + command;
  const int rc = std::system((full + " >>" + dir_ + "/commands.log 2>&1").c_str());
  if (rc == 0) return true;
  std::ifstream log(dir_ + "/commands.log");
  std::stringstream text;
  text << log.rdbuf();
  error_ = "`" + command + "` failed: " + text.str();
  return false;
}

bool PostgresServer::Start() {
  bin_ = ServerBinDir();
  if (bin_.empty()) {
    error_ = "no PostgreSQL server is installed (Debian: apt-get install postgresql)";
    return false;
  }
  std::string tmpl = std::filesystem::temp_directory_path().string() + "/backspan-pg.XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    error_ = "mkdtemp failed";
    return false;
  }
  dir_ = tmpl;
  if (geteuid() == 0) {
    const passwd* pw = getpwnam("postgres");
    if (!pw) {
      error_ = "running as root needs the postgres system user";
      return false;
    }
    as_user_ = "postgres";
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      error_ = "chown " + dir_ + " failed";
      return false;
    }
  }
  if (!Run(bin_ + "/initdb -D " + dir_ + "/data -A trust -U postgres -E UTF8 --no-sync")) return false;
  port_ = FreePort();
  return Restart();
}

bool PostgresServer::Restart() {
  Stop();
  // Durability is not what these tests are about: fsync off keeps them fast.
  const std::string options = "-p " + std::to_string(port_) + " -k " + dir_ +
                              " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off";
  if (!Run(bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -t 60 -o '" + options + "' start"))
    return false;
  running_ = true;
  uri_ = "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
  return true;
}

void PostgresServer::Stop() {
  if (!running_) return;
  Run(bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop");
  running_ = false;
}

}  // namespace backspan::testing
