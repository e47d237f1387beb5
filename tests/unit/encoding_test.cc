// The repository's binary encodings: primitives, trees, index files and
// pack headers round-trip, and damaged input is rejected, never misread.
#include <gtest/gtest.h>

#include "repository/index.h"
#include "repository/tree.h"
#include "util/encoding.h"
#include "util/hex.h"
#include "util/path_matcher.h"
#include "util/time_format.h"

namespace backspan {
namespace {

TEST(Encoding, VarintsRoundTrip) {
  const uint64_t values[] = {0, 1, 127, 128, 300, 1ull << 32, ~0ull};
  const int64_t signed_values[] = {0, -1, 1, -64, 64, INT64_MIN, INT64_MAX};
  Encoder enc;
  for (uint64_t v : values) enc.PutVarint(v);
  for (int64_t v : signed_values) enc.PutSignedVarint(v);
  enc.PutFixed32(0xdeadbeef);
  enc.PutString("name with\nnewline");
  Bytes data = enc.Take();
  Decoder dec(data);
  for (uint64_t v : values) {
    uint64_t got = 0;
    ASSERT_TRUE(dec.GetVarint(&got).ok());
    EXPECT_EQ(got, v);
  }
  for (int64_t v : signed_values) {
    int64_t got = 0;
    ASSERT_TRUE(dec.GetSignedVarint(&got).ok());
    EXPECT_EQ(got, v);
  }
  uint32_t fixed = 0;
  ASSERT_TRUE(dec.GetFixed32(&fixed).ok());
  EXPECT_EQ(fixed, 0xdeadbeefu);
  std::string s;
  ASSERT_TRUE(dec.GetString(&s).ok());
  EXPECT_EQ(s, "name with\nnewline");
  EXPECT_TRUE(dec.done());
}

TEST(Encoding, TruncatedInputIsCorruption) {
  Encoder enc;
  enc.PutString("hello");
  Bytes data = enc.Take();
  data.pop_back();
  Decoder dec(data);
  std::string s;
  Status st = dec.GetString(&s);
  EXPECT_EQ(st.code(), ErrorCode::kCorruption);
  Bytes endless(20, 0xff);  // a varint that never ends
  Decoder dec2(endless);
  uint64_t v;
  EXPECT_EQ(dec2.GetVarint(&v).code(), ErrorCode::kCorruption);
}

Tree SampleTree() {
  Tree t;
  Node dir;
  dir.name = "dir";
  dir.kind = FileKind::kDir;
  dir.subtree.bytes[0] = 7;
  Node file;
  file.name = std::string("f\xff\xfe name\n");  // not UTF-8, with a space and a newline
  file.kind = FileKind::kFile;
  file.mode = 0640;
  file.uid = 1000;
  file.gid = 100;
  file.mtime_ns = -5;  // before 1970
  file.size = 3;
  file.content.resize(2);
  file.content[1].bytes[31] = 9;
  Node link;
  link.name = "link";
  link.kind = FileKind::kSymlink;
  link.link_target = "../../etc/passwd";
  t.nodes = {dir, file, link};
  std::sort(t.nodes.begin(), t.nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
  return t;
}

TEST(TreeEncoding, RoundTrip) {
  Tree t = SampleTree();
  auto decoded = DecodeTree(EncodeTree(t));
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  ASSERT_EQ(decoded->nodes.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const Node& a = t.nodes[i];
    const Node& b = decoded->nodes[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.mode, b.mode);
    EXPECT_EQ(a.uid, b.uid);
    EXPECT_EQ(a.mtime_ns, b.mtime_ns);
    EXPECT_EQ(a.content, b.content);
    EXPECT_EQ(a.subtree, b.subtree);
    EXPECT_EQ(a.link_target, b.link_target);
  }
}

TEST(TreeEncoding, RejectsNamesThatEscape) {
  for (const std::string& bad : std::vector<std::string>{"..", ".", "a/b", "", std::string("a\0b", 3)}) {
    Tree t;
    Node n;
    n.name = bad;
    t.nodes.push_back(n);
    auto decoded = DecodeTree(EncodeTree(t));
    EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruption) << "name: " << bad;
  }
}

TEST(TreeEncoding, RejectsDuplicateOrUnsortedNames) {
  Tree t;
  Node a, b;
  a.name = "b";
  b.name = "a";
  t.nodes = {a, b};
  EXPECT_FALSE(DecodeTree(EncodeTree(t)).ok());
  t.nodes = {b, b};
  EXPECT_FALSE(DecodeTree(EncodeTree(t)).ok());
}

TEST(TreeEncoding, RejectsTrailingBytes) {
  Bytes data = EncodeTree(SampleTree());
  data.push_back(0);
  EXPECT_EQ(DecodeTree(data).status().code(), ErrorCode::kCorruption);
}

TEST(IndexEncoding, RoundTrip) {
  IndexedPack p;
  p.id.bytes[0] = 1;
  PackEntry e;
  e.type = BlobType::kTree;
  e.compressed = true;
  e.id.bytes[5] = 5;
  e.offset = 100;
  e.length = 200;
  e.raw_length = 300;
  p.entries = {e, e};
  p.entries[1].id.bytes[5] = 6;
  auto decoded = DecodeIndexFile(EncodeIndexFile({p}));
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->size(), 1u);
  EXPECT_EQ((*decoded)[0].id, p.id);
  ASSERT_EQ((*decoded)[0].entries.size(), 2u);
  const PackEntry& d = (*decoded)[0].entries[0];
  EXPECT_EQ(d.type, BlobType::kTree);
  EXPECT_TRUE(d.compressed);
  EXPECT_EQ(d.offset, 100u);
  EXPECT_EQ(d.length, 200u);
  EXPECT_EQ(d.raw_length, 300u);

  Index index;
  index.AddSavedPack((*decoded)[0]);
  EXPECT_TRUE(index.Has(e.id));
  EXPECT_FALSE(index.Reserve(e.id));  // already stored
  BlobId fresh;
  fresh.bytes[0] = 42;
  EXPECT_TRUE(index.Reserve(fresh));   // first claim wins
  EXPECT_FALSE(index.Reserve(fresh));  // a second thread must not store it again
}

TEST(Hex, RoundTripsAndRejectsGarbage) {
  Bytes b = {0x00, 0xab, 0xff};
  EXPECT_EQ(HexEncode(b), "00abff");
  EXPECT_EQ(*HexDecode("00ABff"), b);
  EXPECT_FALSE(HexDecode("0g").has_value());
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_EQ(*Base64Decode(Base64Encode(b)), b);
  Bytes two = {1, 2};
  EXPECT_EQ(*Base64Decode(Base64Encode(two)), two);
}

TEST(Time, Rfc3339RoundTrip) {
  int64_t t = 1795000000123456789;
  EXPECT_EQ(ParseRfc3339(FormatRfc3339(t)), t);
  EXPECT_EQ(ParseRfc3339("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_FALSE(ParseRfc3339("yesterday").has_value());
  EXPECT_EQ(ParseDuration("90s"), 90'000'000'000);
  EXPECT_EQ(ParseDuration("1.5m"), 90'000'000'000);
  EXPECT_EQ(ParseDuration("2h"), 7200'000'000'000);
  EXPECT_EQ(ParseDuration("30"), 30'000'000'000);
  EXPECT_FALSE(ParseDuration("-1s").has_value());
  EXPECT_FALSE(ParseDuration("soon").has_value());
}

// Found by fuzzing (fuzz_lock, fuzz_snapshot, fuzz_key_file, fuzz_audit_log,
// fuzz_flags): a year before 1678 or after 2262 overflowed 64-bit
// nanoseconds (undefined behaviour); such times are refused.
TEST(Time, TimesBeyondSixtyFourBitsAreRefused) {
  EXPECT_FALSE(ParseRfc3339("1013-09-21T14:13:20.000000000Z").has_value());
  EXPECT_FALSE(ParseRfc3339("3052-09-21T14:13:20Z").has_value());
  EXPECT_FALSE(ParseUserTime("20-11-211:00").has_value());
  EXPECT_FALSE(ParseUserTime("9999-01-01").has_value());
  EXPECT_TRUE(ParseRfc3339("2262-04-11T23:47:16Z").has_value());
  EXPECT_TRUE(ParseRfc3339("1678-09-21T00:12:44Z").has_value());
  // And durations: 9555555555 s, or NaN, were cast to int64 with undefined behaviour.
  EXPECT_FALSE(ParseDuration("9555555555").has_value());
  EXPECT_FALSE(ParseDuration("nan").has_value());
  EXPECT_FALSE(ParseDuration("infd").has_value());
  EXPECT_EQ(ParseDuration("9000000000"), 9'000'000'000'000'000'000);
}

// Found by fuzzing (fuzz_otlp_response): a Retry-After date of year 6
// ("Wed, 21 Oct6 07:28:00 GMT") overflowed the same way.
TEST(Time, HttpDatesBeyondSixtyFourBitsAreRefused) {
  EXPECT_FALSE(ParseHttpDate("Wed, 21 Oct6 07:28:00 GMT").has_value());
  EXPECT_EQ(ParseHttpDate("Wed, 21 Oct 2015 07:28:00 GMT"), int64_t{1445412480} * 1'000'000'000);
  EXPECT_EQ(FormatUtc(int64_t{1445412480} * 1'000'000'000, "%a, %d %b %Y %H:%M:%S GMT"), "Wed, 21 Oct 2015 07:28:00 GMT");
}

TEST(PathMatcher, ComponentAndPathPatterns) {
  PathMatcher m({"*.tmp", "/data/cache", "/home/*/secret"});
  EXPECT_TRUE(m.Matches("/a/b/x.tmp"));
  EXPECT_TRUE(m.Matches("/a/x.tmp/inside"));
  EXPECT_FALSE(m.Matches("/a/b/x.txt"));
  EXPECT_TRUE(m.Matches("/data/cache"));
  EXPECT_TRUE(m.Matches("/data/cache/deep/file"));
  EXPECT_FALSE(m.Matches("/data/cached"));
  EXPECT_TRUE(m.Matches("/home/alice/secret/key"));
  EXPECT_FALSE(m.Matches("/home/alice/public"));
}

}  // namespace
}  // namespace backspan
