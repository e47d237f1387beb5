// Backups under injected faults: unreadable source files are reported and
// skipped; repository write failures (ENOSPC, short writes, failed fsync,
// failed rename) fail the backup cleanly and leave earlier snapshots intact.
#include <gtest/gtest.h>

#include <filesystem>

#include "archiver/archiver.h"
#include "backend/local/local_backend.h"
#include "checker/checker.h"
#include "restorer/restorer.h"
#include "test_util.h"

namespace backspan {
namespace {

using testing::FaultEnv;
using testing::TempDir;

class ArchiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init().ok());
    testing::WriteFile(dir_.Sub("src/a.txt"), "alpha");
    testing::WriteFile(dir_.Sub("src/sub/b.txt"), std::string(3 << 20, 'b'));
    testing::WriteFile(dir_.Sub("src/sub/c.txt"), "gamma");
    auto repo = Repository::Init(std::make_unique<LocalBackend>(&env_, dir_.Sub("repo")), &env_, "pw",
                                 ChunkerParams{}, "h", "u");
    ASSERT_TRUE(repo.ok());
    repo_ = std::move(*repo);
  }

  Result<BackupResult> Backup() {
    BackupOptions opts;
    opts.paths = {dir_.Sub("src")};
    opts.hostname = "h";
    Archiver archiver(repo_.get(), &env_, opts);
    return archiver.Run();
  }

  CheckResult Check() {
    auto repo = Repository::Open(std::make_unique<LocalBackend>(Env::Default(), dir_.Sub("repo")),
                                 Env::Default(), "pw");
    EXPECT_TRUE(repo.ok());
    Checker checker(repo->get(), CheckOptions{true, 100});
    auto result = checker.Run();
    EXPECT_TRUE(result.ok());
    return *result;
  }

  bool TempFilesLeft() {
    for (auto& e : std::filesystem::recursive_directory_iterator(dir_.Sub("repo")))
      if (e.path().filename().string().find(".tmp-") != std::string::npos) return true;
    return false;
  }

  TempDir dir_;
  FaultEnv env_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(ArchiverTest, UnreadableFileIsReportedAndTheRestIsSaved) {
  std::string bad = dir_.Sub("src/sub/c.txt");
  env_.fault = [&](FaultEnv::Op op, const std::string& path) {
    return op == FaultEnv::Op::kRead && path == bad ? EIO : 0;
  };
  auto result = Backup();
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->incomplete());
  EXPECT_EQ(result->snapshot.summary.errors, 1u);
  ASSERT_EQ(result->issues.size(), 1u);
  EXPECT_EQ(result->issues[0].path, bad);
  EXPECT_NE(result->issues[0].message.find("Input/output error"), std::string::npos);
  EXPECT_TRUE(Check().ok());
}

TEST_F(ArchiverTest, VanishedFileIsReported) {
  std::string gone = dir_.Sub("src/a.txt");
  env_.fault = [&](FaultEnv::Op op, const std::string& path) {
    return op == FaultEnv::Op::kOpenForRead && path == gone ? ENOENT : 0;
  };
  auto result = Backup();
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->issues.size(), 1u);
  EXPECT_EQ(result->issues[0].message, "file vanished during backup");
}

// Each repository write fault must fail the backup with a clear error and
// leave the repository valid, with the earlier snapshot restorable.
struct WriteFault {
  FaultEnv::Op op;
  int err;
  const char* what;
};

class ArchiverWriteFaultTest : public ArchiverTest, public ::testing::WithParamInterface<WriteFault> {};

TEST_P(ArchiverWriteFaultTest, FailsCleanlyAndLosesNothing) {
  auto first = Backup();
  ASSERT_TRUE(first.ok());
  testing::WriteFile(dir_.Sub("src/new.txt"), std::string(2 << 20, 'n'));
  const WriteFault fault = GetParam();
  std::string repo_dir = dir_.Sub("repo");
  env_.fault = [&](FaultEnv::Op op, const std::string& path) {
    return op == fault.op && path.rfind(repo_dir, 0) == 0 ? fault.err : 0;
  };
  auto second = Backup();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(fault.what), std::string::npos) << second.status().message();
  if (fault.err == ENOSPC) {
    EXPECT_EQ(second.status().code(), ErrorCode::kNoSpace);
  }
  env_.fault = nullptr;
  EXPECT_FALSE(TempFilesLeft());
  CheckResult check = Check();
  EXPECT_TRUE(check.ok()) << (check.errors.empty() ? "" : check.errors[0]);
  EXPECT_EQ(check.snapshots, 1u);

  RestoreOptions ro;
  ro.target = dir_.Sub("out");
  auto repo = Repository::Open(std::make_unique<LocalBackend>(Env::Default(), repo_dir), Env::Default(), "pw");
  ASSERT_TRUE((*repo)->LoadIndex().ok());
  Restorer restorer(repo->get(), ro);
  auto restored = restorer.Run(first->snapshot);
  ASSERT_TRUE(restored.ok());
  EXPECT_TRUE(restored->issues.empty());
  EXPECT_EQ(testing::ReadFile(dir_.Sub("out") + dir_.Sub("src/sub/b.txt")), std::string(3 << 20, 'b'));
}

INSTANTIATE_TEST_SUITE_P(Faults, ArchiverWriteFaultTest,
                         ::testing::Values(WriteFault{FaultEnv::Op::kAppend, ENOSPC, "No space left"},
                                           WriteFault{FaultEnv::Op::kAppend, EIO, "Input/output error"},
                                           WriteFault{FaultEnv::Op::kSync, EIO, "fsync"},
                                           WriteFault{FaultEnv::Op::kNewWritableFile, ENOSPC, "No space left"},
                                           WriteFault{FaultEnv::Op::kRename, EIO, "rename"}));

TEST_F(ArchiverTest, IncrementalBackupReadsNothingUnchanged) {
  auto first = Backup();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->snapshot.summary.files_new, 3u);
  auto second = Backup();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->snapshot.parent, first->snapshot.id);
  EXPECT_EQ(second->snapshot.summary.bytes_read, 0u);
  EXPECT_EQ(second->snapshot.summary.files_unmodified, 3u);
  // The root tree may differ: it records the parents of src (e.g. /tmp),
  // whose mtimes other processes change.
  EXPECT_EQ(second->snapshot.summary.data_blobs, 0u);
}

}  // namespace
}  // namespace backspan
