// serve --forward's parts that need no network: the --forward values, the
// headers file, and redaction of spans in their stored form.
#include <gtest/gtest.h>

#include "env/env.h"
#include "observatory/forward/destination.h"
#include "observatory/forward/otlp_redaction.h"
#include "test_util.h"
#include "trace/export/otlp_encoding.h"

namespace backspan::observatory {
namespace {

TEST(ForwardDestinationTest, TakesAUrlWithHeadersAndAQueue) {
  testing::TempDir dir;
  const std::string file = dir.path() + "/headers";
  testing::WriteFile(file, "# token\n\nlightstep-access-token:  abc \nAuthorization: Bearer x.y\n");
  auto d = ParseForwardDestination("https://user:pw@otel.example:4318/v1/traces?x=1,headers=" + file + ",queue=8MiB",
                                   Env::Default());
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->url, "https://user:pw@otel.example:4318/v1/traces?x=1");
  EXPECT_EQ(d->label, "https://otel.example:4318/v1/traces");  // no credentials, no query
  ASSERT_EQ(d->headers.size(), 2u);
  EXPECT_EQ(d->headers[0], (std::pair<std::string, std::string>{"lightstep-access-token", "abc"}));
  EXPECT_EQ(d->headers[1].second, "Bearer x.y");
  EXPECT_EQ(d->queue_bytes, 8u << 20);
  auto plain = ParseForwardDestination("http://127.0.0.1:4318/v1/traces", Env::Default());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->queue_bytes, 64u << 20);
  EXPECT_TRUE(plain->headers.empty());
}

TEST(ForwardDestinationTest, RefusesWhatIsWrongByName) {
  EXPECT_NE(ParseForwardDestination("otel:4318", Env::Default()).status().message().find("not an http"),
            std::string::npos);
  EXPECT_NE(ParseForwardDestination("http://h/v1/traces,queue=1KiB", Env::Default()).status().message().find("queue=1KiB"),
            std::string::npos);
  EXPECT_NE(ParseForwardDestination("http://h/v1/traces,headers=/nonexistent/h", Env::Default()).status().message().find(
                "/nonexistent/h"),
            std::string::npos);
  auto bad = ParseHeaderLines("ok: 1\nno colon here\n", "f");
  EXPECT_EQ(bad.status().message(), "f:2: expected 'Name: value'");
  EXPECT_FALSE(ParseHeaderLines("bad name: 1\n", "f").ok());
  EXPECT_FALSE(ParseHeaderLines(std::string("x: a\x01") + "b\n", "f").ok());
}

// The ResourceSpans inside an encoded one-resource request (field 1).
std::string ResourceSpansOf(const std::string& request) {
  size_t i = 1, len = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<uint8_t>(request[i++]);
    len |= static_cast<size_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  return request.substr(i, len);
}

TEST(OtlpRedactionTest, ScrubsCredentialsAppliesRulesAndKeepsTheRest) {
  trace::Resource resource;
  resource.attributes = {{"service.name", std::string("svc")}, {"team.secret", std::string("drop me")}};
  trace::SpanData span;
  span.trace_id[0] = span.span_id[0] = 1;
  span.name = "upload";
  span.attributes = {{"db.url", std::string("postgresql://u:hunter2@db/app")},
                     {"count", int64_t{7}},
                     {"file.path", std::string("/home/ann/x")}};
  span.events.push_back({"retry", 5, {{"note", std::string("Authorization: Bearer abc.def.ghi")}}});
  span.status = trace::StatusCode::kError;
  span.status_message = "GET https://acct.blob.core.windows.net/c?sig=SECRETSIG failed";
  const std::string rs = ResourceSpansOf(trace::EncodeOtlpProtobuf(resource, "1", {span}));
  trace::RedactionConfig config;
  config.paths = trace::RedactAction::kDrop;
  config.rules.push_back({"team.*", trace::RedactAction::kDrop});
  auto out = RedactResourceSpans(rs, trace::Redactor(config));
  ASSERT_TRUE(out.ok());
  for (const char* gone : {"hunter2", "drop me", "team.secret", "abc.def.ghi", "SECRETSIG", "/home/ann/x", "file.path"})
    EXPECT_EQ(out->find(gone), std::string::npos) << gone;
  for (const char* kept : {"svc", "upload", "db.url", "count", "retry", "REDACTED"})
    EXPECT_NE(out->find(kept), std::string::npos) << kept;
  EXPECT_FALSE(RedactResourceSpans("\xff\xff\xff", trace::Redactor(config)).ok());
}

}  // namespace
}  // namespace backspan::observatory
