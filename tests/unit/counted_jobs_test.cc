// What replicas queue for the aggregates and tell each other of the jobs
// they stored (counted_jobs.h): every field round-trips, the JSON of
// earlier versions is still read, damage is Corruption.
#include <gtest/gtest.h>

#include "observatory/store/postgres/counted_jobs.h"

namespace backspan::observatory {
namespace {

CountedJob Job(int n) {
  CountedJob c;
  c.sign = n % 2 ? -1 : 1;
  c.to_source = n % 3 != 0;
  JobRecord& j = c.job;
  j.trace_id[0] = static_cast<uint8_t>(n);
  j.trace_id[15] = 0xff;
  j.span_id[7] = static_cast<uint8_t>(n + 1);
  j.name = "backup";
  j.kind = "backup";
  j.status = "error";
  j.host = "db-01,\"quoted\"";
  j.service = "backspan";
  j.resource_group = "rg-é";
  j.start_ns = -5 + n;  // before 1970 too
  j.end_ns = INT64_MAX;
  j.bytes_added = 1 << 20;
  j.bytes_total = INT64_MIN;
  j.files_total = 200000;
  j.files_changed = 3;
  j.bytes_read = 7;
  j.bytes_stored = 8;
  j.deadline_ns = 9;
  j.error_type = "no_space";
  j.error_message = std::string("a\0b, c", 6);
  j.snapshot_id = "abc";
  j.source_key = "db-01\x1f/srv";
  j.source_paths = "/srv,/etc";
  j.tags = {{"env", "prod"}, {"k,=", "v,\n"}};
  return c;
}

void ExpectSame(const CountedJob& a, const CountedJob& b) {
  EXPECT_EQ(a.sign, b.sign);
  EXPECT_EQ(a.to_source, b.to_source);
  const JobRecord &x = a.job, &y = b.job;
  EXPECT_EQ(x.trace_id, y.trace_id);
  EXPECT_EQ(x.span_id, y.span_id);
  EXPECT_EQ(std::tie(x.name, x.kind, x.status, x.host, x.service, x.resource_group, x.error_type, x.error_message,
                     x.snapshot_id, x.source_key, x.source_paths),
            std::tie(y.name, y.kind, y.status, y.host, y.service, y.resource_group, y.error_type, y.error_message,
                     y.snapshot_id, y.source_key, y.source_paths));
  EXPECT_EQ(std::tie(x.start_ns, x.end_ns, x.bytes_added, x.bytes_total, x.files_total, x.files_changed, x.bytes_read,
                     x.bytes_stored, x.deadline_ns),
            std::tie(y.start_ns, y.end_ns, y.bytes_added, y.bytes_total, y.files_total, y.files_changed, y.bytes_read,
                     y.bytes_stored, y.deadline_ns));
  EXPECT_EQ(x.tags, y.tags);
}

TEST(CountedJobsTest, EveryFieldRoundTrips) {
  std::vector<CountedJob> jobs = {Job(1), Job(2), Job(3)};
  const std::string text = EncodeCountedJobs(jobs);
  EXPECT_EQ(text[0], kCountedJobsFormat);
  EXPECT_EQ(text.find('\0'), std::string::npos);  // text PostgreSQL takes
  auto back = DecodeCountedJobs(text);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) ExpectSame((*back)[i], jobs[i]);
  // Records packed one by one read back alike.
  auto one = DecodeCountedJobs(std::string(1, kCountedJobsFormat) + EncodeCountedJob(jobs[0]) + "," +
                               EncodeCountedJob(jobs[1]));
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 2u);
  ExpectSame((*one)[1], jobs[1]);
  auto none = DecodeCountedJobs(EncodeCountedJobs({}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(CountedJobsTest, TheJsonOfEarlierVersionsIsRead) {
  auto old = DecodeCountedJobs(
      R"([{"s":-1,"src":false,"trace":"0102030405060708090a0b0c0d0e0f10","span":"0102030405060708","name":"backup",)"
      R"("kind":"backup","status":"ok","host":"h","service":"backspan","rg":"rg-1","start":5,"end":9,"added":1,)"
      R"("total":2,"key":"h/srv","paths":"/srv","tags":[["env","prod"]]}])");
  ASSERT_TRUE(old.ok()) << old.status().message();
  ASSERT_EQ(old->size(), 1u);
  EXPECT_EQ((*old)[0].sign, -1);
  EXPECT_EQ((*old)[0].job.resource_group, "rg-1");
  EXPECT_EQ((*old)[0].job.tags, (std::vector<Tag>{{"env", "prod"}}));
}

TEST(CountedJobsTest, DamageIsCorruption) {
  std::string text = EncodeCountedJobs({Job(1)});
  for (const std::string& bad : {text.substr(0, text.size() / 2), text + ",!!", std::string("B%%%"), std::string("[{]"),
                                 std::string("B") + EncodeCountedJob(Job(1)).substr(4)}) {
    auto r = DecodeCountedJobs(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruption) << bad;
  }
}

}  // namespace
}  // namespace backspan::observatory
