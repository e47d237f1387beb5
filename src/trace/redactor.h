// Scrubs sensitive values out of spans before they leave the process.
//
// Built-in detectors always run on every string value (span and event
// attributes, status messages): credentials in URLs, SAS and other signed
// query parameters, AccountKey=-style connection-string secrets, bearer and
// basic authorization tokens, and email addresses become "REDACTED".
// Configurable rules then keep, hash or drop file paths and any attribute
// whose key matches a glob. Hashing is keyed (HMAC-SHA256), so equal values
// still group together but cannot be confirmed by guessing.
// docs/tracing.md lists the rules.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "trace/exporter.h"
#include "util/status.h"

namespace backspan {
class Env;
}

namespace backspan::trace {

enum class RedactAction { kKeep, kHash, kDrop };

struct RedactionRule {
  std::string key_glob;  // fnmatch(3) glob on the attribute key, e.g. "azure.*"
  RedactAction action = RedactAction::kKeep;
};

struct RedactionConfig {
  // What happens to file paths: attributes that hold paths (file.path,
  // backspan.paths, ...) and absolute paths inside messages.
  RedactAction paths = RedactAction::kKeep;
  // Tried in order before the path rule; the first matching glob decides.
  std::vector<RedactionRule> rules;
  crypto::Key hash_key{};
};

// Parses "GLOB=keep|hash|drop" (one rule); kInvalidArgument otherwise.
Result<RedactionRule> ParseRedactionRule(const std::string& text);
Result<RedactAction> ParseRedactAction(const std::string& text);

// The key hashed values are keyed with: BACKSPAN_TRACE_HASH_KEY if set,
// else `dir`/trace-hash.key, made once (0600) so hashes stay the same
// across jobs that share the directory.
crypto::Key LoadHashKey(Env* env, const std::string& dir);

class Redactor {
 public:
  explicit Redactor(RedactionConfig config) : config_(std::move(config)) {}

  // Applies the detectors and rules to attributes; dropped ones are removed.
  void Apply(Attributes& attrs) const;
  // Applies the detectors, then the path rule, to free text.
  std::string ScrubText(const std::string& text) const;
  // Replaces credentials only.
  std::string ScrubCredentials(const std::string& text) const;
  // Hashes or blanks absolute paths in text, as the path rule says.
  std::string ScrubPaths(const std::string& text) const;
  // Every span and event attribute and the status message of `span`.
  void Apply(SpanData& span) const;
  // "hmac:" and the first 16 hex digits of HMAC-SHA256(key, value).
  std::string Hash(const std::string& value) const;

 private:
  RedactAction ActionFor(const std::string& key) const;
  RedactionConfig config_;
};

// Redacts each span, then hands it to `next`.
class RedactionProcessor final : public SpanProcessor {
 public:
  RedactionProcessor(Redactor redactor, std::unique_ptr<SpanProcessor> next)
      : redactor_(std::move(redactor)), next_(std::move(next)) {}
  void OnEnd(SpanData span) noexcept override {
    redactor_.Apply(span);
    next_->OnEnd(std::move(span));
  }
  Status ForceFlush(int64_t deadline_ns) noexcept override { return next_->ForceFlush(deadline_ns); }
  Status Shutdown(int64_t deadline_ns) noexcept override { return next_->Shutdown(deadline_ns); }
  void BeginFlush() noexcept override { next_->BeginFlush(); }

 private:
  Redactor redactor_;
  std::unique_ptr<SpanProcessor> next_;
};

}  // namespace backspan::trace
