// A thin RAII layer over libpq: a connection, parameterised statements with
// text results, transactions and advisory locks, with errors as Status. A
// connection URI is libpq's own (postgresql://USER@HOST:PORT/DB?sslmode=...),
// so PG* environment variables, ~/.pgpass and every TLS mode libpq offers
// apply unchanged. Only the stores use it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/status.h"

struct pg_conn;
struct pg_result;

namespace backspan::pg {

// A statement's parameter: text, or SQL NULL. Binary data goes as bytea's
// hex text (ByteaHex).
using Param = std::optional<std::string>;

// The rows a statement returned, as text.
class Rows {
 public:
  Rows() = default;
  Rows(Rows&& o) noexcept : res_(o.res_) { o.res_ = nullptr; }
  Rows& operator=(Rows&& o) noexcept;
  ~Rows();

  int size() const;
  int columns() const;
  bool IsNull(int row, int col) const;
  std::string_view Text(int row, int col) const;
  // The value as an integer; 0 for NULL or text that is not one.
  int64_t Int(int row, int col) const;
  double Double(int row, int col) const;
  // A bigint[] value ('{1,2,3}'); empty for NULL.
  std::vector<int64_t> Ints(int row, int col) const;
  // A bytea value (sent back in hex form).
  std::string Bytes(int row, int col) const;
  // Rows a command touched (INSERT, UPDATE, DELETE).
  int64_t Affected() const;

 private:
  friend class Connection;
  explicit Rows(pg_result* res) : res_(res) {}
  pg_result* res_ = nullptr;
};

class Connection {
 public:
  Connection() = default;
  Connection(Connection&& o) noexcept
      : conn_(o.conn_), prepared_(std::move(o.prepared_)), plan_once_(o.plan_once_) {
    o.conn_ = nullptr;
  }
  Connection& operator=(Connection&& o) noexcept;
  ~Connection();

  // Connects to `uri` (libpq's connection string or URI). IOError if the
  // server cannot be reached or refuses (the message is libpq's, without a
  // password); InvalidArgument if the URI does not parse. Later calls fail
  // with IOError when the server has gone away (a caller may retry), with
  // Locked when a concurrent transaction won a deadlock or serialization
  // conflict (the transaction may simply run again), with InvalidArgument or
  // AlreadyExists for data the server refuses, and with Internal for
  // anything else (a statement that is wrong).
  static Result<Connection> Open(const std::string& uri);

  // Runs one or more statements that return no rows.
  Status Exec(std::string_view sql);
  // Runs one statement with $1, $2, ... bound to `params`.
  Result<Rows> Query(const std::string& sql, const std::vector<Param>& params = {});
  // From now on, Query prepares each statement once and reuses one generic
  // plan for it: a query over many partitions can take longer to plan than
  // to run. For connections that serve reads (the writer's statements plan
  // better knowing their arrays).
  Status PlanOnce();
  // A single integer (the first column of the first row; NotFound if none).
  Result<int64_t> QueryInt(const std::string& sql, const std::vector<Param>& params = {});
  // LISTENs on `channel` (an identifier).
  Status Listen(const std::string& channel);
  // The payloads of notifications received, waiting up to `timeout_ms` for
  // the first; IOError if the connection broke.
  Result<std::vector<std::string>> Notifications(int timeout_ms);
  // Whether the connection is still usable (false after the server went away).
  bool ok() const;
  // The server's version number, e.g. 150004.
  int ServerVersion() const;

 private:
  explicit Connection(pg_conn* c) : conn_(c) {}
  Status ErrorOf(pg_result* res, std::string_view what) const;
  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
  bool plan_once_ = false;
};

// `bytes` as bytea's hex input form ("\x0a1b..."), for a Param.
std::string ByteaHex(std::string_view bytes);

// An array literal ('{...}') of `values`, for a parameter cast to text[]
// or bigint[] (with unnest, a statement takes many rows in one parameter).
// NUL characters, which text cannot hold, are left out.
std::string ArrayOf(const std::vector<std::string>& values);
std::string ArrayOf(const std::vector<int64_t>& values);
std::string ArrayOf(const std::vector<double>& values);

// `uri` with any password replaced by "***", for messages and logs.
std::string RedactUri(const std::string& uri);

}  // namespace backspan::pg
