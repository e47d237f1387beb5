// Restore never writes outside its target, even through symlinks that are
// already there, and refuses a non-empty target without overwrite.
#include <gtest/gtest.h>

#include <filesystem>

#include "archiver/archiver.h"
#include "backend/local/local_backend.h"
#include "checker/checker.h"
#include "restorer/restorer.h"
#include "test_util.h"
#include "trace/exporter.h"
#include "trace/tracer.h"

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

// Restore and check emit their phases as spans from the engine, as backup
// and prune do: the command line only hands them the job's span.
TEST_F(RestorerTest, RestoreAndCheckReportTheirPhasesAsSpans) {
  trace::Resource resource;
  trace::InMemoryExporter exporter;
  trace::SimpleProcessor processor(&resource, &exporter);
  trace::Tracer tracer(&processor, Env::Default());
  std::vector<std::string> names;
  auto phases = [&](const trace::SpanData& root) {
    std::vector<std::string> out;
    for (const auto& s : exporter.spans())
      if (s.parent_span_id == root.span_id) out.push_back(s.name);
    return out;
  };
  {
    trace::Span job = tracer.StartSpan("restore");
    RestoreOptions opts;
    opts.target = dir_.Sub("out");
    opts.trace = &job;
    ASSERT_TRUE(Restorer(repo_.get(), opts).Run(snapshot_).ok());
  }
  const trace::SpanData restore = exporter.spans().back();
  EXPECT_EQ(phases(restore), (std::vector<std::string>{"plan restore", "restore files", "finish restore"}));
  {
    trace::Span job = tracer.StartSpan("check");
    CheckOptions opts;
    opts.read_data = true;
    opts.trace = &job;
    auto result = Checker(repo_.get(), opts).Run();
    ASSERT_TRUE(result.ok() && result->ok());
  }
  const trace::SpanData check = exporter.spans().back();
  EXPECT_EQ(phases(check), (std::vector<std::string>{"check packs", "read data", "check file names", "check snapshots"}));
}

// A path that cannot be restored is an event on the phase that met it.
TEST_F(RestorerTest, APathNotRestoredIsAnEventOnItsPhase) {
  // A directory where the snapshot has a file: --overwrite replaces files,
  // never directories.
  fs::create_directories(dir_.Sub("out") + dir_.Sub("src") + "/file.txt/inside");
  trace::Resource resource;
  trace::InMemoryExporter exporter;
  trace::SimpleProcessor processor(&resource, &exporter);
  trace::Tracer tracer(&processor, Env::Default());
  {
    trace::Span job = tracer.StartSpan("restore");
    RestoreOptions opts;
    opts.target = dir_.Sub("out");
    opts.overwrite = true;
    opts.trace = &job;
    auto result = Restorer(repo_.get(), opts).Run(snapshot_);
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->issues.size(), 1u);
  }
  const trace::SpanData* files = nullptr;
  for (const auto& s : exporter.spans())
    if (s.name == "restore files") files = &s;
  ASSERT_NE(files, nullptr);
  ASSERT_EQ(files->events.size(), 1u);
  EXPECT_EQ(files->events[0].name, "backspan.file_error");
  const trace::AttributeValue* path = trace::FindAttribute(files->events[0].attributes, "file.path");
  ASSERT_NE(path, nullptr);
  EXPECT_EQ(trace::AttributeText(*path), dir_.Sub("src") + "/file.txt");
}

}  // namespace
}  // namespace backspan
