#include "backend/s3/sigv4.h"

#include <algorithm>
#include <map>
#include <vector>

#include "crypto/crypto.h"
#include "util/hex.h"
#include "util/text.h"
#include "util/time_format.h"

namespace backspan::s3 {
namespace {

// Trimmed, with runs of spaces inside collapsed to one.
std::string CanonicalValue(const std::string& v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string Hex(const crypto::Digest& d) { return HexEncode(ByteView(d.data(), d.size())); }

crypto::Digest Hmac(ByteView key, const std::string& data) { return crypto::HmacSha256(key, AsBytes(data)); }

std::string AmzDate(int64_t now_unix_ns) { return FormatUtc(now_unix_ns, "%Y%m%dT%H%M%SZ"); }

}  // namespace

SigV4Parts SignV4(const object::RestRequest& r, const AwsCredentials& creds, const std::string& region,
                  const std::string& service, const std::string& amz_date, const std::string& payload_hash) {
  SigV4Parts p;
  // Query: each name and value encoded, sorted by name, then value.
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [k, v] : r.query) query.emplace_back(object::UriEncode(k, false), object::UriEncode(v, false));
  std::sort(query.begin(), query.end());
  std::string canonical_query;
  for (const auto& [k, v] : query) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query.append(k).append("=").append(v);
  }
  // Headers: lower-case names, sorted; repeated ones joined by ','.
  std::map<std::string, std::string> headers;
  for (const auto& [k, v] : r.headers) {
    std::string& slot = headers[AsciiLower(k)];
    if (!slot.empty()) slot += ',';
    slot += CanonicalValue(v);
  }
  std::string canonical_headers;
  for (const auto& [k, v] : headers) {
    canonical_headers.append(k).append(":").append(v).append("\n");
    if (!p.signed_headers.empty()) p.signed_headers += ';';
    p.signed_headers += k;
  }
  p.canonical_request = r.method + "\n" + (r.path.empty() ? "/" : r.path) + "\n" + canonical_query + "\n" +
                        canonical_headers + "\n" + p.signed_headers + "\n" + payload_hash;
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  p.string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" +
                     Hex(crypto::Sha256(AsBytes(p.canonical_request)));
  const std::string secret = "AWS4" + creds.secret_access_key;
  crypto::Digest key = Hmac(AsBytes(secret), date);
  key = Hmac(key, region);
  key = Hmac(key, service);
  key = Hmac(key, "aws4_request");
  p.signature = Hex(Hmac(key, p.string_to_sign));
  p.authorization = "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id + "/" + scope +
                    ", SignedHeaders=" + p.signed_headers + ", Signature=" + p.signature;
  return p;
}

namespace {

class S3Signer final : public object::RequestSigner {
 public:
  S3Signer(AwsCredentials creds, std::string region) : creds_(std::move(creds)), region_(std::move(region)) {}
  Status Sign(object::RestRequest* r, const std::string& host, int64_t now) override {
    const std::string date = AmzDate(now);
    // The payload is signed: its hash is known (a file named by it), or
    // it is hashed as it will be read for sending.
    std::string payload = r->body.sha256_hex;
    if (payload.empty()) {
      crypto::Sha256Stream hash;
      std::vector<uint8_t> buf(std::min<uint64_t>(r->body.size, 1 << 20));
      for (uint64_t off = 0; off < r->body.size; off += buf.size()) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), r->body.size - off));
        RETURN_IF_ERROR(r->body.read(off, buf.data(), n));
        hash.Update(ByteView(buf.data(), n));
      }
      payload = Hex(hash.Final());
    }
    r->headers.emplace_back("x-amz-date", date);
    r->headers.emplace_back("x-amz-content-sha256", payload);
    if (!creds_.session_token.empty()) r->headers.emplace_back("x-amz-security-token", creds_.session_token);
    object::RestRequest with_host = *r;
    with_host.headers.emplace_back("host", host);  // the client sends it
    r->headers.emplace_back("Authorization", SignV4(with_host, creds_, region_, "s3", date, payload).authorization);
    return Status::Ok();
  }

 private:
  const AwsCredentials creds_;
  const std::string region_;
};

}  // namespace

std::shared_ptr<object::RequestSigner> MakeS3Signer(AwsCredentials credentials, std::string region) {
  return std::make_shared<S3Signer>(std::move(credentials), std::move(region));
}

}  // namespace backspan::s3
