// Reading a TOML configuration file (toml++), for the files operators
// write: the agent's and the notifications'. Only the parsers of those files
// include this header, so toml++ stays in a few translation units.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::config {

// Reads a file an operator names (a configuration, a token, a secret),
// following links to it.
Result<Bytes> ReadNamedFile(Env* env, const std::string& path);

// Parses the file at `path`; InvalidArgument naming the line and column of
// a syntax error.
Result<toml::table> ParseTomlFile(Env* env, const std::string& path);

// Reads one TOML table, remembering which keys were asked for, so that a
// misspelt key is an error instead of a silently ignored setting. The first
// problem is kept as an InvalidArgument prefixed with `where`.
class TableReader {
 public:
  TableReader(const toml::table* table, std::string where) : table_(table), where_(std::move(where)) {}

  const std::string& where() const { return where_; }
  Status error() const { return error_; }
  bool ok() const { return error_.ok(); }

  // A non-empty string; "" if absent (an error if `required`).
  std::string Text(const char* key, bool required = false);
  int64_t Integer(const char* key, int64_t fallback, int64_t min, int64_t max);
  double Number(const char* key, double fallback, double min, double max);
  bool Boolean(const char* key, bool fallback);
  // A duration such as "90s", "5m", "2h", "1d", in seconds.
  int64_t Duration(const char* key, int64_t fallback);
  // A list of non-empty strings.
  std::vector<std::string> List(const char* key);
  // A string-to-string table, such as tags.
  std::vector<std::pair<std::string, std::string>> StringTable(const char* key);
  const toml::table* Table(const char* key);
  // Reads the sub-table `key` with `read`, reporting its problems here
  // ("policy 'x': retry: attempts must be ...").
  void Nested(const char* key, const std::function<void(TableReader&)>& read);
  // Marks `key` as known without reading it (an array of tables read apart).
  void Known(const char* key) { Get(key); }
  // Fails on any key nobody asked for.
  void RejectUnknown();
  void Fail(const std::string& why);

 private:
  const toml::node* Get(const char* key);

  const toml::table* table_;
  std::string where_;
  std::set<std::string> seen_;
  Status error_;
};

}  // namespace backspan::config
