// A real PostgreSQL server for tests: a fresh cluster in a temporary
// directory, listening on a free loopback port, started by the test and
// stopped (and removed) after it. As root it runs as the `postgres` system
// user, which the Debian package creates (initdb refuses root).
#pragma once

#include <string>

namespace backspan::testing {

class PostgresServer {
 public:
  PostgresServer() = default;
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Makes the cluster and starts it; false with `error()` set if it could not.
  bool Start();
  // Stops the server (immediately) and starts it again on the same port.
  bool Restart();
  void Stop();

  // postgresql://postgres@127.0.0.1:PORT/postgres
  const std::string& uri() const { return uri_; }
  const std::string& error() const { return error_; }

 private:
  bool Run(const std::string& command);
  std::string dir_, bin_, uri_, error_, as_user_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace backspan::testing
