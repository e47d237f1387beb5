// The tamper-evident audit log: who did what, to which scope and resource,
// with what result, from where. Records are JSON lines in append-only
// segment files (audit-000001.jsonl, ...; a new segment per open), each
// committing to the one before it with a SHA-256 chain:
//
//   hash = SHA-256(prev_hash || the record's canonical JSON without "hash")
//
// so editing, removing or reordering any record breaks the chain at that
// record, and a head file (audit.head: the last sequence number and hash,
// replaced atomically after every append) makes cutting records off the end
// visible too. Format: docs/security.md, "Audit log".
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/status.h"

namespace backspan {
class Env;
class WritableFile;
}

namespace backspan::audit {

struct AuditRecord {
  int64_t seq = 0;      // set by Append: 1, 2, ...
  int64_t time_ns = 0;  // set by Append from the Env's clock if 0
  std::string issuer, subject, name;  // the principal: token issuer and subject, a display name
  std::string action;    // e.g. "traces.read", "ingest.write", "auth.denied"
  std::string scope;     // the resource group or selector acted in, "*" for all
  std::string resource;  // e.g. a trace id, an API path
  std::string result;    // "allowed", "denied", "error"
  std::string client;    // the client's address
  std::string detail;    // why, for a denial
  std::string prev_hash, hash;  // hex; set by Append
};

class AuditLog {
 public:
  // Opens the log in `dir` (created 0700 if missing) to append: checks that
  // the last segment's end matches the head file, then starts a new segment.
  // Corruption if the log was cut or the head does not match.
  static Result<std::unique_ptr<AuditLog>> Open(Env* env, const std::string& dir);
  ~AuditLog();

  // Appends `record` (seq, time and hashes filled in), durably: the segment
  // and the head are synced before it returns. Safe from any thread.
  Result<AuditRecord> Append(AuditRecord record);

 private:
  AuditLog(Env* env, std::string dir);
  Status WriteHead();

  Env* env_;
  std::string dir_;
  std::mutex mu_;
  std::unique_ptr<WritableFile> segment_;
  int64_t last_seq_ = 0;
  std::string last_hash_;
};

struct VerifyReport {
  int64_t records = 0, segments = 0;
  std::vector<std::string> problems;  // empty: the chain is intact
  bool ok() const { return problems.empty(); }
};

// Re-reads every segment and checks every record's hash, its link to the
// one before, the sequence numbers and the head. IOError if it cannot read.
Result<VerifyReport> VerifyAuditLog(Env* env, const std::string& dir);

struct AuditFilter {
  int64_t since_ns = 0, until_ns = INT64_MAX;
  std::string subject, action, result, scope;  // exact matches; empty: any
  int limit = 1000;                            // the newest this many
};

// The records that match, oldest first (unverified: run VerifyAuditLog).
Result<std::vector<AuditRecord>> ListAuditLog(Env* env, const std::string& dir, const AuditFilter& filter);

// The canonical JSON line of a record (keys in sorted order).
std::string RecordJson(const AuditRecord& r);
// `text` as a JSON string literal, quoted and escaped.
std::string JsonString(const std::string& text);

}  // namespace backspan::audit
