// The audit log's chain: an intact log verifies across segments; editing,
// removing, reordering and cutting off records are each detected.
#include <gtest/gtest.h>

#include <sstream>

#include "audit/audit_log.h"
#include "test_util.h"

namespace backspan::audit {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  // Ten records in two segments (two opens), as two server runs leave them.
  void SetUp() override {
    for (int run = 0; run < 2; ++run) {
      auto log = AuditLog::Open(Env::Default(), dir_.path());
      ASSERT_TRUE(log.ok()) << log.status().message();
      for (int i = 0; i < 5; ++i) {
        AuditRecord r;
        r.issuer = "https://idp.example";
        r.subject = i % 2 ? "alice" : "agent-7";
        r.action = i == 4 ? "auth.denied" : "traces.read";
        r.scope = "rg-prod";
        r.resource = "/api/v1/jobs";
        r.result = i == 4 ? "denied" : "allowed";
        r.client = "127.0.0.1";
        ASSERT_TRUE((*log)->Append(r).ok());
      }
    }
  }
  std::string Segment(int n) const { return dir_.Sub(n == 1 ? "audit-000001.jsonl" : "audit-000002.jsonl"); }
  std::vector<std::string> Lines(int n) const {
    std::vector<std::string> out;
    std::istringstream in(testing::ReadFile(Segment(n)));
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  void Rewrite(int n, const std::vector<std::string>& lines) const {
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    testing::WriteFile(Segment(n), text);
  }
  // The problems verify reports; expects at least one containing `what`.
  void ExpectDetected(const std::string& what) {
    auto report = VerifyAuditLog(Env::Default(), dir_.path());
    ASSERT_TRUE(report.ok());
    ASSERT_FALSE(report->ok()) << "not detected: " << what;
    bool found = false;
    for (const auto& p : report->problems) found |= p.find(what) != std::string::npos;
    EXPECT_TRUE(found) << report->problems[0];
  }

  testing::TempDir dir_;
};

TEST_F(AuditLogTest, AnIntactLogVerifiesAndReopens) {
  auto report = VerifyAuditLog(Env::Default(), dir_.path());
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->problems[0];
  EXPECT_EQ(report->records, 10);
  EXPECT_EQ(report->segments, 2);
  AuditFilter f;
  f.result = "denied";
  auto denied = ListAuditLog(Env::Default(), dir_.path(), f);
  ASSERT_TRUE(denied.ok());
  ASSERT_EQ(denied->size(), 2u);
  EXPECT_EQ((*denied)[0].seq, 5);
  EXPECT_EQ((*denied)[1].seq, 10);
  f = AuditFilter{};
  f.limit = 3;
  auto newest = ListAuditLog(Env::Default(), dir_.path(), f);
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(newest->front().seq, 8);
}

TEST_F(AuditLogTest, AnEditedRecordIsDetected) {
  auto lines = Lines(1);
  const size_t at = lines[1].find("\"alice\"");
  ASSERT_NE(at, std::string::npos);
  lines[1].replace(at, 7, "\"mallory\"");
  Rewrite(1, lines);
  ExpectDetected("record 2 (audit-000001.jsonl line 2): its content does not match its hash: it was edited");
}

TEST_F(AuditLogTest, ARemovedRecordIsDetected) {
  auto lines = Lines(2);
  lines.erase(lines.begin() + 1);
  Rewrite(2, lines);
  ExpectDetected("record 8 (audit-000002.jsonl line 2) does not follow record 6");
}

TEST_F(AuditLogTest, ReorderedRecordsAreDetected) {
  auto lines = Lines(1);
  std::swap(lines[1], lines[3]);
  Rewrite(1, lines);
  ExpectDetected("does not follow");
}

TEST_F(AuditLogTest, ACutOffEndIsDetectedAndStopsTheServer) {
  auto lines = Lines(2);
  lines.pop_back();
  lines.pop_back();
  Rewrite(2, lines);
  ExpectDetected("the log ends at record 8 but audit.head records 10: records were cut off the end");
  auto log = AuditLog::Open(Env::Default(), dir_.path());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), ErrorCode::kCorruption);
}

TEST_F(AuditLogTest, ARemovedSegmentOrHeadIsDetected) {
  std::remove(Segment(1).c_str());
  ExpectDetected("record 6 (audit-000002.jsonl line 1) does not follow record 0");
  std::remove(dir_.Sub("audit.head").c_str());
  ExpectDetected("audit.head is missing");
}

}  // namespace
}  // namespace backspan::audit
