#include "storage/postgres.h"

#include <libpq-fe.h>
#include <poll.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "util/hex.h"

namespace backspan::pg {
namespace {

// SQLSTATE classes that say the server or the connection went away: the
// caller may try again later (an API answers 503).
bool IsUnavailable(std::string_view sqlstate) {
  return sqlstate.rfind("08", 0) == 0 ||  // connection exception
         sqlstate.rfind("57P", 0) == 0 ||  // operator intervention: shutdown, crash
         sqlstate == "53300";              // too many connections
}

std::string Trimmed(const char* message) {
  std::string m = message ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

}  // namespace

Rows& Rows::operator=(Rows&& o) noexcept {
  if (this != &o) {
    if (res_) PQclear(res_);
    res_ = o.res_;
    o.res_ = nullptr;
  }
  return *this;
}

Rows::~Rows() {
  if (res_) PQclear(res_);
}

int Rows::size() const { return res_ ? PQntuples(res_) : 0; }
int Rows::columns() const { return res_ ? PQnfields(res_) : 0; }
bool Rows::IsNull(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }

std::string_view Rows::Text(int row, int col) const {
  return {PQgetvalue(res_, row, col), static_cast<size_t>(PQgetlength(res_, row, col))};
}

int64_t Rows::Int(int row, int col) const {
  const std::string_view t = Text(row, col);
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

double Rows::Double(int row, int col) const {
  return IsNull(row, col) ? 0.0 : std::strtod(PQgetvalue(res_, row, col), nullptr);
}

std::vector<int64_t> Rows::Ints(int row, int col) const {
  std::vector<int64_t> out;
  if (IsNull(row, col)) return out;
  std::string_view t = Text(row, col);
  if (!t.empty() && t.front() == '{') t.remove_prefix(1);
  while (!t.empty() && t.front() != '}') {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc()) break;
    out.push_back(v);
    t.remove_prefix(static_cast<size_t>(end - t.data()));
    if (!t.empty() && t.front() == ',') t.remove_prefix(1);
  }
  return out;
}

std::string Rows::Bytes(int row, int col) const {
  const std::string_view t = Text(row, col);
  if (t.size() < 2 || t[0] != '\\' || t[1] != 'x') return {};
  const auto bytes = HexDecode(t.substr(2));
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

int64_t Rows::Affected() const {
  const char* n = res_ ? PQcmdTuples(res_) : "";
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    if (conn_) PQfinish(conn_);
    conn_ = o.conn_;
    prepared_ = std::move(o.prepared_);
    plan_once_ = o.plan_once_;
    o.conn_ = nullptr;
  }
  return *this;
}

Status Connection::PlanOnce() {
  RETURN_IF_ERROR(Exec("SET plan_cache_mode = force_generic_plan"));
  plan_once_ = true;
  return Status::Ok();
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

Result<Connection> Connection::Open(const std::string& uri) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(uri.c_str(), &error);
  if (!parsed) {
    std::string m = error ? Trimmed(error) : "out of memory";
    PQfreemem(error);
    return Status::InvalidArgument("postgresql: " + RedactUri(uri) + ": " + m);
  }
  PQconninfoFree(parsed);
  Connection c(PQconnectdb(uri.c_str()));
  if (!c.conn_) return Status::IOError("postgresql: out of memory");
  if (PQstatus(c.conn_) != CONNECTION_OK)
    return Status::IOError("postgresql: " + RedactUri(uri) + ": " + Trimmed(PQerrorMessage(c.conn_)));
  // Quiet NOTICEs (CREATE ... IF NOT EXISTS says it skipped).
  PQsetNoticeProcessor(c.conn_, [](void*, const char*) {}, nullptr);
  return c;
}

Status Connection::ErrorOf(pg_result* res, std::string_view what) const {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  std::string message = Trimmed(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
  if (message.empty()) message = Trimmed(PQerrorMessage(conn_));
  const std::string text = "postgresql: " + std::string(what) + ": " + message +
                           (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")");
  // IOError: try again later (an API answers 503 with Retry-After).
  if (PQstatus(conn_) != CONNECTION_OK || IsUnavailable(sqlstate)) return Status::IOError(text);
  if (sqlstate == "40001" || sqlstate == "40P01") return Status::Locked(text);
  if (sqlstate == "53100") return Status(ErrorCode::kNoSpace, text);
  if (sqlstate == "23505") return Status::AlreadyExists(text);
  if (sqlstate.rfind("22", 0) == 0 || sqlstate.rfind("23", 0) == 0) return Status::InvalidArgument(text);
  return Status::Internal(text);
}

Status Connection::Exec(std::string_view sql) {
  const std::string s(sql);
  pg_result* res = PQexec(conn_, s.c_str());
  const ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  Status out = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? Status::Ok() : ErrorOf(res, s.substr(0, 60));
  if (res) PQclear(res);
  return out;
}

Result<Rows> Connection::Query(const std::string& sql, const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  pg_result* res = nullptr;
  if (plan_once_) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      if (prepared_.size() >= 512) {  // bounded: statements built from many shapes of query
        RETURN_IF_ERROR(Exec("DEALLOCATE ALL"));
        prepared_.clear();
      }
      std::string name = std::to_string(prepared_.size());
      name.insert(name.begin(), 'q');
      pg_result* made = PQprepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(values.size()), nullptr);
      const bool ok = made && PQresultStatus(made) == PGRES_COMMAND_OK;
      Status s = ok ? Status::Ok() : ErrorOf(made, sql.substr(0, 60));
      if (made) PQclear(made);
      if (!s.ok()) return s;
      it = prepared_.emplace(sql, name).first;
    }
    res = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
  } else {
    res = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0);
  }
  const ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Status s = ErrorOf(res, sql.substr(0, 60));
    if (res) PQclear(res);
    return s;
  }
  return Rows(res);
}

Result<int64_t> Connection::QueryInt(const std::string& sql, const std::vector<Param>& params) {
  auto rows = Query(sql, params);
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0 || rows->columns() == 0) return Status::NotFound("postgresql: no row from " + sql.substr(0, 60));
  return rows->Int(0, 0);
}

Status Connection::Listen(const std::string& channel) { return Exec("LISTEN " + channel); }

Result<std::vector<std::string>> Connection::Notifications(int timeout_ms) {
  std::vector<std::string> out;
  auto drain = [&]() -> Status {
    if (!PQconsumeInput(conn_)) return Status::IOError("postgresql: " + Trimmed(PQerrorMessage(conn_)));
    while (PGnotify* n = PQnotifies(conn_)) {
      out.emplace_back(n->extra ? n->extra : "");
      PQfreemem(n);
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(drain());
  if (!out.empty()) return out;
  pollfd p{PQsocket(conn_), POLLIN, 0};
  if (p.fd < 0) return Status::IOError("postgresql: the connection is closed");
  if (poll(&p, 1, timeout_ms) > 0) RETURN_IF_ERROR(drain());
  return out;
}

bool Connection::ok() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }
int Connection::ServerVersion() const { return conn_ ? PQserverVersion(conn_) : 0; }

std::string ByteaHex(std::string_view bytes) {
  return "\\x" + HexEncode(ByteView(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

std::string ArrayOf(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const std::string& v : values) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    for (char c : v) {
      if (c == '\0') continue;  // text cannot hold NUL
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string ArrayOf(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (int64_t v : values) {
    if (out.size() > 1) out.push_back(',');
    out += std::to_string(v);
  }
  out.push_back('}');
  return out;
}

std::string ArrayOf(const std::vector<double>& values) {
  std::string out = "{";
  char buf[32];
  for (double v : values) {
    if (out.size() > 1) out.push_back(',');
    std::snprintf(buf, sizeof buf, "%.17g", v);
    out += buf;
  }
  out.push_back('}');
  return out;
}

std::string RedactUri(const std::string& uri) {
  std::string out = uri;
  // postgresql://user:password@host...
  const size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const size_t at = out.find('@', scheme + 3);
    const size_t colon = out.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      out.replace(colon + 1, at - colon - 1, "***");
  }
  // ...?password=secret, or key=value form: password=secret
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    const size_t start = p + 9;
    size_t end = out.find_first_of("& ", start);
    if (end == std::string::npos) end = out.size();
    out.replace(start, end - start, "***");
  }
  return out;
}

}  // namespace backspan::pg
