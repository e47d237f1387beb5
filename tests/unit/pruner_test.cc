// Prune: what no snapshot uses is marked, then deleted once no job that
// could still use it runs; partly used packs are repacked down to
// --max-unused; a dry run changes nothing; each step is a span.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "archiver/archiver.h"
#include "backend/local/local_backend.h"
#include "checker/checker.h"
#include "pruner/pruner.h"
#include "repository/lock.h"
#include "test_util.h"
#include "trace/exporter.h"
#include "trace/tracer.h"

namespace backspan {
namespace {

std::string RandomText(size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

class PrunerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(crypto::Init().ok());
    auto repo = Repository::Init(Backend(), Env::Default(), "pw", ChunkerParams{}, "h", "u");
    ASSERT_TRUE(repo.ok()) << repo.status().message();
  }

  std::unique_ptr<LocalBackend> Backend() {
    return std::make_unique<LocalBackend>(Env::Default(), dir_.Sub("repo"));
  }

  // A fresh handle, its index not loaded: as each command opens the repository.
  std::unique_ptr<Repository> Open() {
    auto repo = Repository::Open(Backend(), Env::Default(), "pw");
    EXPECT_TRUE(repo.ok()) << repo.status().message();
    return std::move(*repo);
  }

  // `threads` 1 puts every blob of a small backup in one pack.
  std::string Backup(const std::string& src, unsigned threads = 0) {
    auto repo = Open();
    EXPECT_TRUE(repo->LoadIndex().ok());
    BackupOptions opts;
    opts.paths = {dir_.Sub(src)};
    opts.hostname = "h";
    opts.threads = threads;
    auto result = Archiver(repo.get(), Env::Default(), opts).Run();
    EXPECT_TRUE(result.ok()) << result.status().message();
    return result.ok() ? result->snapshot.id : "";
  }

  void Forget(const std::string& snapshot) {
    ASSERT_TRUE(Backend()->Remove(FileType::kSnapshot, snapshot).ok());
  }

  Result<PruneStats> Prune(PruneOptions opts) {
    opts.grace_ns = 0;
    opts.hostname = "h";
    auto repo = Open();
    return Pruner(repo.get(), opts).Run();
  }

  size_t Count(FileType type) { return Backend()->List(type)->size(); }

  void ExpectSound() {
    auto repo = Open();
    CheckOptions opts;
    opts.read_data = true;
    auto result = Checker(repo.get(), opts).Run();
    ASSERT_TRUE(result.ok()) << result.status().message();
    EXPECT_TRUE(result->ok()) << result->errors.front();
  }

  testing::TempDir dir_;
};

TEST_F(PrunerTest, WhatEverySnapshotUsesStays) {
  testing::WriteFile(dir_.Sub("a/file"), RandomText(1 << 20, 1));
  Backup("a");
  const size_t packs = Count(FileType::kPack);
  auto stats = Prune({});
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->packs_marked, 0u);
  EXPECT_EQ(stats->packs_deleted, 0u);
  EXPECT_EQ(stats->bytes_unused, 0u);
  EXPECT_EQ(Count(FileType::kPack), packs);
  ExpectSound();
}

TEST_F(PrunerTest, AForgottenSnapshotsDataIsMarkedThenDeletedInSpans) {
  testing::WriteFile(dir_.Sub("a/file"), RandomText(2 << 20, 1));
  testing::WriteFile(dir_.Sub("b/file"), RandomText(2 << 20, 2));
  const std::string a = Backup("a");
  Backup("b");
  const size_t packs = Count(FileType::kPack);
  Forget(a);
  trace::Resource resource;
  trace::InMemoryExporter exporter;
  trace::SimpleProcessor processor(&resource, &exporter);
  trace::Tracer tracer(&processor, Env::Default());
  Result<PruneStats> stats = Status::Internal("not run");
  {
    trace::Span job = tracer.StartSpan("prune");
    PruneOptions opts;
    opts.trace = &job;
    stats = Prune(opts);
  }
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_GT(stats->packs_unused, 0u);
  EXPECT_EQ(stats->packs_deleted, stats->packs_marked);
  EXPECT_EQ(Count(FileType::kPack), packs - stats->packs_deleted);
  EXPECT_EQ(Count(FileType::kDeletion), 0u);  // phase two done: the mark is gone too
  std::vector<std::string> steps;
  for (const auto& s : exporter.spans())
    if (!s.is_root()) steps.push_back(s.name);
  EXPECT_EQ(steps, (std::vector<std::string>{"analyze usage", "remove leftovers", "repack", "mark packs", "delete packs"}));
  ExpectSound();
}

TEST_F(PrunerTest, ADryRunChangesNothing) {
  testing::WriteFile(dir_.Sub("a/file"), RandomText(1 << 20, 1));
  testing::WriteFile(dir_.Sub("b/file"), RandomText(1 << 20, 2));
  const std::string a = Backup("a");
  Backup("b");
  Forget(a);
  const size_t packs = Count(FileType::kPack), index_files = Count(FileType::kIndex);
  PruneOptions opts;
  opts.dry_run = true;
  auto stats = Prune(opts);
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_GT(stats->packs_marked, 0u);  // what it would do
  EXPECT_EQ(stats->packs_deleted, 0u);
  EXPECT_EQ(Count(FileType::kPack), packs);
  EXPECT_EQ(Count(FileType::kIndex), index_files);
  EXPECT_EQ(Count(FileType::kDeletion), 0u);
}

// Phase two waits for every job that held a lock when the packs were
// marked: a backup that started before could still reference them.
TEST_F(PrunerTest, PacksMarkedWhileAJobRunsWaitForIt) {
  testing::WriteFile(dir_.Sub("a/file"), RandomText(1 << 20, 1));
  testing::WriteFile(dir_.Sub("b/file"), RandomText(1 << 20, 2));
  const std::string a = Backup("a");
  Backup("b");
  Forget(a);
  auto other = Open();
  auto lock = RepositoryLock::Acquire(other.get(), false, "backup", "another-host", "u");
  ASSERT_TRUE(lock.ok()) << lock.status().message();
  const size_t packs = Count(FileType::kPack);
  auto first = Prune({});
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_GT(first->packs_marked, 0u);
  EXPECT_EQ(first->packs_deleted, 0u);
  EXPECT_EQ(first->marks_pending, 1u);
  ASSERT_EQ(first->waiting_for.size(), 1u);
  EXPECT_EQ(Count(FileType::kPack), packs);
  ASSERT_TRUE((*lock)->Release().ok());
  auto second = Prune({});
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->packs_deleted, first->packs_marked);
  EXPECT_EQ(second->marks_pending, 0u);
  ExpectSound();
}

// A pack that holds both used and unused blobs is rewritten when the
// unused share of the repository is above --max-unused.
TEST_F(PrunerTest, PartlyUsedPacksAreRepackedDownToMaxUnused) {
  testing::WriteFile(dir_.Sub("src/keep"), RandomText(300 << 10, 1));
  testing::WriteFile(dir_.Sub("src/drop"), RandomText(300 << 10, 2));
  const std::string first = Backup("src", 1);  // both files, one pack
  std::filesystem::remove(dir_.Sub("src/drop"));
  Backup("src", 1);
  Forget(first);
  PruneOptions keep_waste;
  keep_waste.max_unused_percent = -1;  // any amount: nothing is repacked
  auto lenient = Prune(keep_waste);
  ASSERT_TRUE(lenient.ok()) << lenient.status().message();
  EXPECT_GT(lenient->packs_partly_used, 0u);
  EXPECT_EQ(lenient->packs_repacked, 0u);
  PruneOptions strict;
  strict.max_unused_percent = 0;
  auto stats = Prune(strict);
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_GT(stats->packs_repacked, 0u);
  EXPECT_GT(stats->blobs_repacked, 0u);
  auto after = Prune(strict);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->bytes_unused, 0u);
  ExpectSound();
}

}  // namespace
}  // namespace backspan
