// Restore never writes outside its target, even through symlinks that are
// already there, and refuses a non-empty target without overwrite.
#include <gtest/gtest.h>

#include <filesystem>

#include "archiver/archiver.h"
#include "backend/local/local_backend.h"
#include "restorer/restorer.h"
#include "test_util.h"

namespace backspan {
namespace {

namespace fs = std::filesystem;

class RestorerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init().ok());
    testing::WriteFile(dir_.Sub("src/file.txt"), "content");
    fs::create_symlink("/etc", dir_.Sub("src/etc-link"));
    auto repo = Repository::Init(std::make_unique<LocalBackend>(Env::Default(), dir_.Sub("repo")),
                                 Env::Default(), "pw", ChunkerParams{}, "h", "u");
    ASSERT_TRUE(repo.ok());
    repo_ = std::move(*repo);
    BackupOptions opts;
    opts.paths = {dir_.Sub("src")};
    Archiver archiver(repo_.get(), Env::Default(), opts);
    auto result = archiver.Run();
    ASSERT_TRUE(result.ok());
    snapshot_ = result->snapshot;
  }

  Result<RestoreResult> Restore(const std::string& target, bool overwrite) {
    RestoreOptions opts;
    opts.target = target;
    opts.overwrite = overwrite;
    Restorer restorer(repo_.get(), opts);
    return restorer.Run(snapshot_);
  }

  testing::TempDir dir_;
  std::unique_ptr<Repository> repo_;
  Snapshot snapshot_;
};

TEST_F(RestorerTest, RefusesNonEmptyTargetWithoutOverwrite) {
  testing::WriteFile(dir_.Sub("out/existing"), "x");
  auto result = Restore(dir_.Sub("out"), false);
  EXPECT_EQ(result.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("--overwrite"), std::string::npos);
}

TEST_F(RestorerTest, SymlinksInTheTargetAreReplacedNotFollowed) {
  // The target already holds a symlink where the snapshot has a directory:
  // following it would write into `outside`.
  fs::create_directories(dir_.Sub("outside"));
  fs::create_directories(dir_.Sub("out"));
  std::string first_component = fs::path(dir_.path()).begin()->string() == "/"
                                    ? (++fs::path(dir_.path()).begin())->string()
                                    : "";
  ASSERT_FALSE(first_component.empty());
  fs::create_directory_symlink(dir_.Sub("outside"), dir_.Sub("out/" + first_component));
  auto result = Restore(dir_.Sub("out"), true);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(fs::is_empty(dir_.Sub("outside")));
  std::string restored = dir_.Sub("out") + dir_.Sub("src");
  EXPECT_EQ(testing::ReadFile(restored + "/file.txt"), "content");
  EXPECT_TRUE(fs::is_symlink(restored + "/etc-link"));
  EXPECT_EQ(fs::read_symlink(restored + "/etc-link"), "/etc");
}

}  // namespace
}  // namespace backspan
