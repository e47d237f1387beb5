#include "audit/audit_log.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <nlohmann/json.hpp>

#include "crypto/crypto.h"
#include "env/env.h"
#include "util/hex.h"
#include "util/time_format.h"
#include "util/json_number.h"

namespace backspan::audit {
namespace {

using nlohmann::json;
const char kHead[] = "audit.head";
const char kGenesis[] = "";  // the "previous hash" of record 1

std::string SegmentName(int64_t n) {
  std::string digits = std::to_string(n);
  if (digits.size() < 6) digits.insert(0, 6 - digits.size(), '0');
  return "audit-" + digits + ".jsonl";
}

// Segment numbers present in `dir`, ascending.
Result<std::vector<int64_t>> Segments(Env* env, const std::string& dir) {
  auto entries = env->ReadDir(dir);
  if (!entries.ok()) return entries.status();
  std::vector<int64_t> out;
  for (const auto& e : *entries) {
    long long n = 0;
    char tail[8] = {};
    if (std::sscanf(e.name.c_str(), "audit-%6lld.jsonl%7s", &n, tail) == 1 && e.name == SegmentName(n)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

json ToJson(const AuditRecord& r, bool with_hash) {
  json j = {{"seq", r.seq},     {"time", FormatRfc3339(r.time_ns)}, {"iss", r.issuer},   {"sub", r.subject},
            {"name", r.name},   {"action", r.action},               {"scope", r.scope},  {"resource", r.resource},
            {"result", r.result}, {"client", r.client},             {"detail", r.detail}, {"prev", r.prev_hash}};
  if (with_hash) j["hash"] = r.hash;
  return j;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// What a record's hash must be: it commits to the previous hash and to
// every field, in one canonical form.
std::string HashOf(const AuditRecord& r) {
  const std::string text = r.prev_hash + "\n" + Dump(ToJson(r, false));
  crypto::Digest d = crypto::Sha256(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  return HexEncode(ByteView(d.data(), d.size()));
}

std::optional<AuditRecord> FromJson(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  AuditRecord r;
  try {
    r.seq = IntegerField<int64_t>(j, "seq");
    auto t = ParseRfc3339(j.at("time").get<std::string>());
    if (!t) return std::nullopt;
    r.time_ns = *t;
    r.issuer = j.at("iss").get<std::string>();
    r.subject = j.at("sub").get<std::string>();
    r.name = j.at("name").get<std::string>();
    r.action = j.at("action").get<std::string>();
    r.scope = j.at("scope").get<std::string>();
    r.resource = j.at("resource").get<std::string>();
    r.result = j.at("result").get<std::string>();
    r.client = j.at("client").get<std::string>();
    r.detail = j.at("detail").get<std::string>();
    r.prev_hash = j.at("prev").get<std::string>();
    r.hash = j.at("hash").get<std::string>();
  } catch (const json::exception&) {
    return std::nullopt;
  }
  return r;
}

// Calls fn(segment name, line number, line) for every line of every segment.
template <typename Fn>
Status ForEachLine(Env* env, const std::string& dir, const std::vector<int64_t>& segments, Fn&& fn) {
  for (int64_t n : segments) {
    const std::string name = SegmentName(n);
    auto data = ReadWholeFile(env, dir + "/" + name);
    if (!data.ok()) return data.status();
    std::string_view text(reinterpret_cast<const char*>(data->data()), data->size());
    size_t pos = 0, line = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      ++line;
      // A line without its newline was being written when the process died.
      fn(name, line, text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos),
         nl != std::string_view::npos);
      pos = nl == std::string_view::npos ? text.size() : nl + 1;
    }
  }
  return Status::Ok();
}

struct Head {
  int64_t seq = 0;
  std::string hash;
};

Result<std::optional<Head>> ReadHead(Env* env, const std::string& dir) {
  const std::string path = dir + "/" + kHead;
  if (!env->Exists(path)) return std::optional<Head>();
  auto data = ReadWholeFile(env, path);
  if (!data.ok()) return data.status();
  json j = json::parse(data->begin(), data->end(), nullptr, false);
  const auto seq = j.is_object() && j.contains("seq") ? JsonInteger<int64_t>(j["seq"]) : std::nullopt;
  if (!seq || !j.contains("hash") || !j["hash"].is_string()) return Status::Corruption(path + " is damaged");
  return std::optional<Head>(Head{*seq, j["hash"].get<std::string>()});
}

}  // namespace

std::string RecordJson(const AuditRecord& r) { return Dump(ToJson(r, true)); }

std::string JsonString(const std::string& text) { return Dump(json(text)); }

Result<std::unique_ptr<AuditLog>> AuditLog::Open(Env* env, const std::string& dir) {
  if (Status s = CreateDirs(env, dir); !s.ok()) return s;
  auto segments = Segments(env, dir);
  if (!segments.ok()) return segments.status();
  std::unique_ptr<AuditLog> log(new AuditLog(env, dir));
  log->last_hash_ = kGenesis;
  // The end of the chain: the last complete record.
  Status scan = ForEachLine(env, dir, *segments, [&](const std::string&, size_t, std::string_view line, bool complete) {
    if (!complete) return;
    if (auto r = FromJson(line)) {
      log->last_seq_ = r->seq;
      log->last_hash_ = r->hash;
    }
  });
  if (!scan.ok()) return scan;
  auto head = ReadHead(env, dir);
  if (!head.ok()) return head.status();
  if (!*head) {
    if (log->last_seq_ > 0)
      return Status::Corruption("the audit log in " + dir + " has records but no " + kHead + ": run 'backspan audit verify'");
  } else if ((*head)->seq != log->last_seq_ || (*head)->hash != log->last_hash_) {
    // One record past the head is a crash between the record's sync and the
    // head's; anything else means records were cut off or replaced.
    if (!((*head)->seq + 1 == log->last_seq_))
      return Status::Corruption("the audit log in " + dir + " ends at record " + std::to_string(log->last_seq_) +
                                " but its head says " + std::to_string((*head)->seq) + ": run 'backspan audit verify'");
  }
  const int64_t next = segments->empty() ? 1 : segments->back() + 1;
  auto file = env->NewWritableFile(dir + "/" + SegmentName(next));
  if (!file.ok()) return file.status();
  log->segment_ = std::move(*file);
  if (Status s = env->SyncDir(dir); !s.ok()) return s;
  if (Status s = log->WriteHead(); !s.ok()) return s;
  return log;
}

AuditLog::AuditLog(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

AuditLog::~AuditLog() {
  if (segment_) (void)segment_->Close();
}

Status AuditLog::WriteHead() {
  const std::string text = Dump(json{{"seq", last_seq_}, {"hash", last_hash_}}) + "\n";
  return WriteFileAtomic(env_, dir_ + "/" + kHead, ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Result<AuditRecord> AuditLog::Append(AuditRecord r) {
  std::lock_guard<std::mutex> lock(mu_);
  r.seq = last_seq_ + 1;
  if (r.time_ns == 0) r.time_ns = env_->NowUnixNanos();
  r.prev_hash = last_hash_;
  r.hash = HashOf(r);
  const std::string line = RecordJson(r) + "\n";
  if (Status s = segment_->Append(ByteView(reinterpret_cast<const uint8_t*>(line.data()), line.size())); !s.ok()) return s;
  if (Status s = segment_->Sync(); !s.ok()) return s;
  last_seq_ = r.seq;
  last_hash_ = r.hash;
  if (Status s = WriteHead(); !s.ok()) return s;
  return r;
}

Result<VerifyReport> VerifyAuditLog(Env* env, const std::string& dir) {
  auto segments = Segments(env, dir);
  if (!segments.ok()) return segments.status();
  VerifyReport report;
  report.segments = static_cast<int64_t>(segments->size());
  int64_t seq = 0;
  std::string prev = kGenesis;
  auto problem = [&](std::string text) {
    if (report.problems.size() < 100) report.problems.push_back(std::move(text));
  };
  Status scan = ForEachLine(env, dir, *segments, [&](const std::string& segment, size_t line, std::string_view text,
                                                     bool complete) {
    const std::string where = segment + " line " + std::to_string(line);
    auto r = complete ? FromJson(text) : std::nullopt;
    if (!r) {
      problem(where + ": not a complete audit record (damaged or cut short)");
      return;
    }
    report.records++;
    if (HashOf(*r) != r->hash) problem("record " + std::to_string(r->seq) + " (" + where + "): its content does not match its hash: it was edited");
    if (r->seq != seq + 1 || r->prev_hash != prev)
      problem("record " + std::to_string(r->seq) + " (" + where + ") does not follow record " + std::to_string(seq) +
              ": records before it were removed, or records were reordered");
    // Go on from this record, to report every break, not only the first.
    seq = r->seq;
    prev = r->hash;
  });
  if (!scan.ok()) return scan;
  auto head = ReadHead(env, dir);
  if (!head.ok()) {
    problem(head.status().message());
  } else if (!*head) {
    if (report.records > 0) problem(std::string(kHead) + " is missing: the end of the log cannot be checked");
  } else if ((*head)->seq != seq || (*head)->hash != prev) {
    problem("the log ends at record " + std::to_string(seq) + " but " + kHead + " records " +
            std::to_string((*head)->seq) + ": records were cut off the end, or the head was replaced");
  }
  return report;
}

Result<std::vector<AuditRecord>> ListAuditLog(Env* env, const std::string& dir, const AuditFilter& f) {
  auto segments = Segments(env, dir);
  if (!segments.ok()) return segments.status();
  std::deque<AuditRecord> out;
  Status scan = ForEachLine(env, dir, *segments, [&](const std::string&, size_t, std::string_view text, bool complete) {
    auto r = complete ? FromJson(text) : std::nullopt;
    if (!r || r->time_ns < f.since_ns || r->time_ns >= f.until_ns) return;
    if ((!f.subject.empty() && r->subject != f.subject) || (!f.action.empty() && r->action != f.action) ||
        (!f.result.empty() && r->result != f.result) || (!f.scope.empty() && r->scope != f.scope))
      return;
    out.push_back(std::move(*r));
    if (static_cast<int>(out.size()) > std::max(f.limit, 1)) out.pop_front();
  });
  if (!scan.ok()) return scan;
  return std::vector<AuditRecord>(out.begin(), out.end());
}

}  // namespace backspan::audit
