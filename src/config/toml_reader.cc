#include "config/toml_reader.h"

#include <filesystem>

#include "env/env.h"
#include "util/time_format.h"

namespace backspan::config {
namespace {

std::string FormatNumber(double v) {
  std::string s = std::to_string(v);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

Result<Bytes> ReadNamedFile(Env* env, const std::string& path) {
  // A path the operator names may be a link (a ConfigMap or Secret mount,
  // /etc/alternatives): follow it to the file; the Env's own reads never
  // follow links.
  std::string real = path;
  if (auto info = env->Lstat(path); info.ok() && info->kind == FileKind::kSymlink) {
    std::error_code ec;
    const std::filesystem::path target = std::filesystem::canonical(path, ec);
    if (ec) return Status::NotFound(path + " is a link to nothing (" + ec.message() + ")");
    real = target.string();
  }
  return ReadWholeFile(env, real);
}

Result<toml::table> ParseTomlFile(Env* env, const std::string& path) {
  auto bytes = ReadNamedFile(env, path);
  if (!bytes.ok()) return bytes.status().WithContext("configuration file");
  try {
    return toml::parse(AsText(*bytes), path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.source().begin.line) + ":" +
                                   std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
}

const toml::node* TableReader::Get(const char* key) {
  seen_.insert(key);
  return table_ ? table_->get(key) : nullptr;
}

void TableReader::Fail(const std::string& why) {
  if (error_.ok()) error_ = Status::InvalidArgument(where_ + ": " + why);
}

std::string TableReader::Text(const char* key, bool required) {
  const toml::node* n = Get(key);
  if (!n) {
    if (required) Fail(std::string(key) + " is missing");
    return "";
  }
  if (!n->is_string() || n->as_string()->get().empty()) {
    Fail(std::string(key) + " must be a non-empty string");
    return "";
  }
  return n->as_string()->get();
}

int64_t TableReader::Integer(const char* key, int64_t fallback, int64_t min, int64_t max) {
  const toml::node* n = Get(key);
  if (!n) return fallback;
  if (!n->is_integer() || n->as_integer()->get() < min || n->as_integer()->get() > max) {
    Fail(std::string(key) + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    return fallback;
  }
  return n->as_integer()->get();
}

double TableReader::Number(const char* key, double fallback, double min, double max) {
  const toml::node* n = Get(key);
  if (!n) return fallback;
  const std::optional<double> v = n->value<double>();
  if (!v || *v < min || *v > max) {
    Fail(std::string(key) + " must be a number from " + FormatNumber(min) + " to " + FormatNumber(max));
    return fallback;
  }
  return *v;
}

bool TableReader::Boolean(const char* key, bool fallback) {
  const toml::node* n = Get(key);
  if (!n) return fallback;
  if (!n->is_boolean()) {
    Fail(std::string(key) + " must be true or false");
    return fallback;
  }
  return n->as_boolean()->get();
}

int64_t TableReader::Duration(const char* key, int64_t fallback) {
  const std::string text = Text(key);
  if (text.empty()) return fallback;
  auto ns = ParseDuration(text);
  if (!ns) {
    Fail(std::string(key) + " '" + text + "' is not a duration (90s, 5m, 2h, 1d)");
    return fallback;
  }
  return *ns / 1000000000;
}

std::vector<std::string> TableReader::List(const char* key) {
  std::vector<std::string> out;
  const toml::node* n = Get(key);
  if (!n) return out;
  const toml::array* a = n->as_array();
  bool good = a != nullptr;
  if (a)
    for (const toml::node& item : *a) {
      if (!item.is_string() || item.as_string()->get().empty()) good = false;
      else out.push_back(item.as_string()->get());
    }
  if (!good) Fail(std::string(key) + " must be a list of non-empty strings");
  return out;
}

std::vector<std::pair<std::string, std::string>> TableReader::StringTable(const char* key) {
  std::vector<std::pair<std::string, std::string>> out;
  const toml::table* t = Table(key);
  if (!t) return out;
  for (const auto& [k, value] : *t) {
    if (!value.is_string()) {
      Fail(std::string(key) + ": '" + std::string(k.str()) + "' must be a string");
      return out;
    }
    out.emplace_back(std::string(k.str()), value.as_string()->get());
  }
  return out;
}

const toml::table* TableReader::Table(const char* key) {
  const toml::node* n = Get(key);
  if (n && !n->is_table()) Fail(std::string(key) + " must be a table");
  return n ? n->as_table() : nullptr;
}

void TableReader::Nested(const char* key, const std::function<void(TableReader&)>& read) {
  const toml::table* t = Table(key);
  TableReader nested(t, where_ + ": " + key);
  read(nested);
  nested.RejectUnknown();
  if (!nested.ok()) Fail(nested.error().message().substr(where_.size() + 2));
}

void TableReader::RejectUnknown() {
  if (!table_) return;
  for (const auto& [key, value] : *table_)
    if (!seen_.count(std::string(key.str()))) Fail("unknown setting '" + std::string(key.str()) + "'");
}

}  // namespace backspan::config
