#include "trace/redactor.h"

#include <fnmatch.h>

#include <array>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <regex>
#include <string_view>

#include "env/env.h"
#include "trace/semconv.h"
#include "util/hex.h"
#include "util/text.h"

namespace backspan::trace {
namespace {

struct Detector {
  Detector(bool (*m)(std::string_view), const char* p, const char* r) : may_match(m), pattern(p), replacement(r) {}
  // A cheap test on the lower-cased text that every match passes: std::regex
  // is slow, and most values hold no secret at all.
  bool (*may_match)(std::string_view lower);
  const char* pattern;
  const char* replacement;
  // Compiled on first need: compiling all of them costs a job about 0.7 ms.
  mutable std::once_flag compiled;
  mutable std::optional<std::regex> regex;

  const std::regex& Regex() const {
    std::call_once(compiled, [this] { regex.emplace(pattern, std::regex::ECMAScript | std::regex::icase); });
    return *regex;
  }
};

bool Has(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

const std::array<Detector, 5>& Detectors() {
  static const std::array<Detector, 5> detectors{{
    // user:password@ in any URL: keep the scheme and host.
    {[](std::string_view l) { return Has(l, "://") && Has(l, "@"); },
     R"re(([a-z][a-z0-9+.\-]*://)[^/@\s?#]+@)re", "$1REDACTED:REDACTED@"},
    // Signed URLs: Azure SAS (sig), AWS SigV4 and SigV2, Google, OAuth.
    {[](std::string_view l) { return Has(l, "=") && (Has(l, "?") || Has(l, "&")); },
     R"re(([?&](sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|awsaccesskeyid|x-goog-signature|x-goog-credential|code|access_token|token)=)[^&#\s"']*)re",
     "$1REDACTED"},
    // Connection strings: AccountKey=...; SharedAccessKey=...; Password=...
    {[](std::string_view l) {
       return Has(l, "=") && (Has(l, "key") || Has(l, "signature") || Has(l, "pwd") || Has(l, "password") ||
                              Has(l, "secret"));
     },
     R"re((^|[^a-z0-9_])(accountkey|sharedaccesskey|sharedaccesssignature|password|pwd|secret|client_secret)(\s*=\s*)[^;&\s"']*)re",
     "$1$2$3REDACTED"},
    // Authorization values.
    {[](std::string_view l) { return Has(l, "bearer") || Has(l, "basic"); },
     R"re((^|[^a-z0-9_])(bearer|basic)\s+[a-z0-9._~+/=\-]{8,})re", "$1$2 REDACTED"},
    // Email addresses (not the user:password@host of a URL, handled above).
    {[](std::string_view l) { return Has(l, "@"); },
     R"re((^|[^a-z0-9._%+\-:/])[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,})re", "$1REDACTED"},
  }};
  return detectors;
}

// Absolute paths in free text: "/" followed by anything up to a space, quote or colon.
const std::regex& AbsolutePath() {
  static const std::regex re(R"((^|[\s'"(=])(/[^\s'":]+))");
  return re;
}

bool IsPathKey(const std::string& key) {
  return key == semconv::kFilePath || key == semconv::kFileDirectory || key.ends_with(".path") || key.ends_with(".paths") ||
         key == semconv::kRestoreTarget;
}

}  // namespace

Result<RedactAction> ParseRedactAction(const std::string& text) {
  if (text == "keep") return RedactAction::kKeep;
  if (text == "hash") return RedactAction::kHash;
  if (text == "drop") return RedactAction::kDrop;
  return Status::InvalidArgument("a redaction action must be keep, hash or drop, not '" + text + "'");
}

Result<RedactionRule> ParseRedactionRule(const std::string& text) {
  auto eq = text.rfind('=');
  if (eq == std::string::npos || eq == 0)
    return Status::InvalidArgument("a redaction rule must be KEY_GLOB=keep|hash|drop, not '" + text + "'");
  ASSIGN_OR_RETURN(RedactAction action, ParseRedactAction(text.substr(eq + 1)));
  return RedactionRule{text.substr(0, eq), action};
}

std::string Redactor::Hash(const std::string& value) const {
  crypto::Digest d = crypto::HmacSha256(
      config_.hash_key, ByteView(reinterpret_cast<const uint8_t*>(value.data()), value.size()));
  return "hmac:" + HexEncode(ByteView(d.data(), 8));
}

RedactAction Redactor::ActionFor(const std::string& key) const {
  for (const auto& r : config_.rules) {
    if (fnmatch(r.key_glob.c_str(), key.c_str(), 0) == 0) return r.action;
  }
  return IsPathKey(key) ? config_.paths : RedactAction::kKeep;
}

std::string Redactor::ScrubCredentials(const std::string& text) const {
  // Every detector needs one of these characters; most values have none.
  if (text.find_first_of("@=: ") == std::string::npos) return text;
  std::string out = text;
  std::string lower = AsciiLower(text);
  for (const auto& d : Detectors()) {
    if (!d.may_match(lower)) continue;
    out = std::regex_replace(out, d.Regex(), d.replacement);
    lower = AsciiLower(out);
  }
  return out;
}

std::string Redactor::ScrubPaths(const std::string& text) const {
  if (config_.paths == RedactAction::kKeep || text.find('/') == std::string::npos) return text;
  std::string result;
  size_t last = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), AbsolutePath()); it != std::sregex_iterator(); ++it) {
    size_t pos = static_cast<size_t>(it->position(2));
    result += text.substr(last, pos - last);
    result += config_.paths == RedactAction::kHash ? Hash(it->str(2)) : std::string("[path]");
    last = pos + static_cast<size_t>(it->length(2));
  }
  return result + text.substr(last);
}

std::string Redactor::ScrubText(const std::string& text) const { return ScrubPaths(ScrubCredentials(text)); }

void Redactor::Apply(Attributes& attrs) const {
  Attributes kept;
  kept.reserve(attrs.size());
  for (auto& a : attrs) {
    RedactAction action = ActionFor(a.key);
    if (action == RedactAction::kDrop) continue;
    if (auto* s = std::get_if<std::string>(&a.value)) {
      // Credentials go first, so a hash is never of a secret.
      *s = ScrubCredentials(*s);
      if (action == RedactAction::kHash) *s = Hash(*s);
      else if (!IsPathKey(a.key)) *s = ScrubPaths(*s);  // paths inside messages
    } else if (auto* arr = std::get_if<StringArray>(&a.value)) {
      for (auto& e : *arr) {
        e = ScrubCredentials(e);
        if (action == RedactAction::kHash) e = Hash(e);
        else if (!IsPathKey(a.key)) e = ScrubPaths(e);
      }
    } else if (action == RedactAction::kHash) {
      a.value = Hash(AttributeText(a.value));
    }
    kept.push_back(std::move(a));
  }
  attrs = std::move(kept);
}

void Redactor::Apply(SpanData& span) const {
  Apply(span.attributes);
  for (auto& e : span.events) Apply(e.attributes);
  if (!span.status_message.empty()) span.status_message = ScrubText(span.status_message);
}

crypto::Key LoadHashKey(Env* env, const std::string& dir) {
  if (const char* k = std::getenv("BACKSPAN_TRACE_HASH_KEY"); k && *k)
    return crypto::Sha256(ByteView(reinterpret_cast<const uint8_t*>(k), std::strlen(k)));
  crypto::Key key{};
  const std::string path = dir + "/trace-hash.key";
  if (auto data = ReadWholeFile(env, path); data.ok() && data->size() == key.size()) {
    std::copy(data->begin(), data->end(), key.begin());
    return key;
  }
  key = crypto::RandomKey();
  // The Env creates files 0600 and directories 0700. If the key cannot be
  // kept, hashes still work now but will differ next time.
  if (CreateDirs(env, dir).ok()) (void)WriteFileAtomic(env, path, ByteView(key.data(), key.size()));
  return key;
}

}  // namespace backspan::trace
