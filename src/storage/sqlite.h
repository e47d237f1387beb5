// A thin RAII layer over SQLite's C API: a connection and prepared
// statements, with errors as Status. Only the stores use it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <string_view>

#include "util/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace backspan::sql {

class Stmt;

class Db {
 public:
  Db() = default;
  Db(Db&& o) noexcept : db_(o.db_), cache_(std::move(o.cache_)) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  ~Db();

  // Opens (creating if `create`) the database at `path`; read-only unless
  // `writable`. A busy database is waited on for up to `busy_ms`.
  static Result<Db> Open(const std::string& path, bool writable, bool create, int busy_ms = 5000);

  // Runs one or more statements that return no rows.
  Status Exec(std::string_view sql);
  // Compiles one statement; the Db must outlive it.
  Result<Stmt> Prepare(std::string_view sql);
  // The statement for `sql`, compiled on first use and kept with the
  // connection, reset and ready to bind; nullptr if it does not compile
  // (then Error() says why). `sql` must be a string literal.
  Stmt* Cached(const char* sql);
  // Resets every cached statement. A statement left on a row holds a read
  // snapshot, which stops checkpoints from recycling the WAL: call this when
  // a transaction ends or the connection goes back to a pool.
  void ResetCached();
  int64_t LastInsertRowid() const;
  int Changes() const;
  // A single integer from a query such as "PRAGMA page_count".
  Result<int64_t> QueryInt(std::string_view sql);
  Status Error(std::string_view what) const;
  sqlite3* raw() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  void Close();
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, std::unique_ptr<Stmt>> cache_;
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept : db_(o.db_), st_(o.st_) { o.st_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  // Binds by 1-based index; chainable.
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::string_view text);
  Stmt& Bind(int i, const char* text) { return Bind(i, std::string_view(text)); }
  Stmt& Bind(int i, const std::string& text) { return Bind(i, std::string_view(text)); }
  Stmt& BindBlob(int i, const void* data, size_t n);
  Stmt& BindNull(int i);

  // Advances: true for a row, false when done; an error as Status.
  Result<bool> Step();
  // Steps to completion, for statements that return no rows.
  Status Run();
  // Resets for another execution and clears bindings.
  void Reset();

  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  std::string_view Blob(int col) const;
  bool IsNull(int col) const;

 private:
  friend class Db;
  Stmt(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* st_ = nullptr;
};

}  // namespace backspan::sql
