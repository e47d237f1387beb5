// Repository lifecycle: init, open, passwords and keys, blobs, snapshots.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "backend/local/local_backend.h"
#include "repository/lock.h"
#include "repository/object_aad.h"
#include "repository/pack.h"
#include "repository/repository.h"
#include "test_util.h"
#include "util/encoding.h"

namespace backspan {
namespace {

using testing::TempDir;

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::Init().ok()); }

  std::unique_ptr<Backend> Local() { return std::make_unique<LocalBackend>(Env::Default(), dir_.Sub("repo")); }

  std::unique_ptr<Repository> InitRepo(const std::string& password = "pw") {
    auto repo = Repository::Init(Local(), Env::Default(), password, ChunkerParams{}, "host", "user");
    EXPECT_TRUE(repo.ok()) << repo.status().message();
    return std::move(*repo);
  }

  Result<std::unique_ptr<Repository>> OpenRepo(const std::string& password) {
    return Repository::Open(Local(), Env::Default(), password);
  }

  std::vector<std::string> Listing() {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir_.Sub("repo")))
      out.push_back(e.path().string() + ":" + std::to_string(e.is_regular_file() ? e.file_size() : 0));
    std::sort(out.begin(), out.end());
    return out;
  }

  TempDir dir_;
};

TEST_F(RepositoryTest, InitThenOpenWithThePassword) {
  auto repo = InitRepo();
  std::string id = repo->config().id;
  auto reopened = OpenRepo("pw");
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->config().id, id);
  EXPECT_EQ(Repository::Init(Local(), Env::Default(), "pw", ChunkerParams{}, "h", "u").status().code(),
            ErrorCode::kAlreadyExists);
}

TEST_F(RepositoryTest, WrongPasswordFailsAndWritesNothing) {
  InitRepo();
  auto before = Listing();
  auto repo = OpenRepo("not the password");
  EXPECT_EQ(repo.status().code(), ErrorCode::kWrongPassword);
  EXPECT_NE(repo.status().message().find("wrong password"), std::string::npos);
  EXPECT_EQ(Listing(), before);
}

TEST_F(RepositoryTest, NotARepository) {
  std::filesystem::create_directories(dir_.Sub("repo"));
  auto repo = OpenRepo("pw");
  EXPECT_EQ(repo.status().code(), ErrorCode::kNotARepository);
  EXPECT_NE(repo.status().message().find("backspan init"), std::string::npos);
}

TEST_F(RepositoryTest, DamagedKeyFileIsNamed) {
  InitRepo();
  for (auto& e : std::filesystem::directory_iterator(dir_.Sub("repo/keys")))
    testing::WriteFile(e.path().string(), "{ not json");
  auto repo = OpenRepo("pw");
  EXPECT_EQ(repo.status().code(), ErrorCode::kCorruption);
  EXPECT_NE(repo.status().message().find("damaged"), std::string::npos);
}

TEST_F(RepositoryTest, SeveralPasswordsOpenOneRepository) {
  auto repo = InitRepo("first");
  auto second = repo->AddKey("second", "host", "user");
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(OpenRepo("second").ok());
  EXPECT_TRUE(OpenRepo("first").ok());
  auto keys = repo->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  std::string current = (*keys)[0].current ? (*keys)[0].id : (*keys)[1].id;
  EXPECT_EQ(repo->RemoveKey(current).code(), ErrorCode::kInvalidArgument);  // the key in use
  ASSERT_TRUE(repo->RemoveKey(second->substr(0, 12)).ok());
  EXPECT_EQ(OpenRepo("second").status().code(), ErrorCode::kWrongPassword);
}

TEST_F(RepositoryTest, BlobsSurviveReopenAndDamageIsDetected) {
  auto repo = InitRepo();
  std::vector<BlobId> ids;
  for (int i = 0; i < 50; ++i) {
    std::string data = "blob number " + std::to_string(i) + std::string(5000, 'x');
    BlobId id = repo->HashBlob(AsBytes(data));
    auto saved = repo->SaveBlob(BlobType::kData, id, AsBytes(data), CompressionMode::kAuto);
    ASSERT_TRUE(saved.ok());
    EXPECT_TRUE(*saved);
    EXPECT_FALSE(*repo->SaveBlob(BlobType::kData, id, AsBytes(data), CompressionMode::kAuto));  // dedup
    ids.push_back(id);
  }
  ASSERT_TRUE(repo->Flush().ok());
  auto reopened = OpenRepo("pw");
  ASSERT_TRUE(reopened.ok());
  ASSERT_TRUE((*reopened)->LoadIndex().ok());
  for (int i = 0; i < 50; ++i) {
    auto data = (*reopened)->LoadBlob(ids[i]);
    ASSERT_TRUE(data.ok()) << data.status().message();
    EXPECT_EQ(AsString(*data), "blob number " + std::to_string(i) + std::string(5000, 'x'));
  }
  // Flip one byte in the middle of the pack.
  auto loc = (*reopened)->index().Lookup(ids[10]);
  ASSERT_TRUE(loc.has_value());
  std::string hex = loc->pack.Hex();
  std::string path = dir_.Sub("repo/data/" + hex.substr(0, 2) + "/" + hex);
  std::filesystem::permissions(path, std::filesystem::perms::owner_write, std::filesystem::perm_options::add);
  std::string pack = testing::ReadFile(path);
  pack[loc->entry.offset + 40] ^= 1;
  testing::WriteFile(path, pack);
  auto fresh = OpenRepo("pw");
  ASSERT_TRUE((*fresh)->LoadIndex().ok());
  EXPECT_EQ((*fresh)->LoadBlob(ids[10]).status().code(), ErrorCode::kCorruption);
  EXPECT_TRUE((*fresh)->LoadBlob(ids[11]).ok());
}

TEST_F(RepositoryTest, SwappedBlobsAreDetected) {
  // Two valid sealed blobs of the same size swap places inside a pack:
  // each still decrypts, but not as the blob its index entry names.
  auto repo = InitRepo();
  std::string a(4000, 'a'), b(4000, 'b');
  BlobId ida = repo->HashBlob(AsBytes(a)), idb = repo->HashBlob(AsBytes(b));
  ASSERT_TRUE(repo->SaveBlob(BlobType::kData, ida, AsBytes(a), CompressionMode::kOff).ok());
  ASSERT_TRUE(repo->SaveBlob(BlobType::kData, idb, AsBytes(b), CompressionMode::kOff).ok());
  ASSERT_TRUE(repo->Flush().ok());
  auto la = repo->index().Lookup(ida), lb = repo->index().Lookup(idb);
  ASSERT_TRUE(la && lb);
  ASSERT_EQ(la->pack, lb->pack);
  ASSERT_EQ(la->entry.length, lb->entry.length);
  std::string hex = la->pack.Hex();
  std::string path = dir_.Sub("repo/data/" + hex.substr(0, 2) + "/" + hex);
  std::string pack = testing::ReadFile(path);
  std::string sa = pack.substr(la->entry.offset, la->entry.length);
  std::string sb = pack.substr(lb->entry.offset, lb->entry.length);
  pack.replace(la->entry.offset, sa.size(), sb);
  pack.replace(lb->entry.offset, sb.size(), sa);
  std::filesystem::permissions(path, std::filesystem::perms::owner_write, std::filesystem::perm_options::add);
  testing::WriteFile(path, pack);
  auto fresh = OpenRepo("pw");
  ASSERT_TRUE((*fresh)->LoadIndex().ok());
  EXPECT_EQ((*fresh)->LoadBlob(ida).status().code(), ErrorCode::kCorruption);
  EXPECT_EQ((*fresh)->LoadBlob(idb).status().code(), ErrorCode::kCorruption);
}

TEST_F(RepositoryTest, FindSnapshotByPrefixAndLatest) {
  auto repo = InitRepo();
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    Snapshot s;
    s.time_ns = 1000 + i;
    s.hostname = i % 2 ? "odd" : "even";
    s.paths = {"/data"};
    auto id = repo->SaveSnapshot(s);
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  auto latest = repo->FindSnapshot("latest");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->id, ids.back());
  auto latest_even = repo->FindSnapshot("latest", {}, "even");
  EXPECT_EQ(latest_even->id, ids[18]);
  EXPECT_EQ(repo->FindSnapshot(ids[3].substr(0, 10))->id, ids[3]);
  // 20 ids over 16 first hex digits: some first digit is shared.
  std::map<char, int> first;
  for (auto& id : ids) first[id[0]]++;
  for (auto& [c, n] : first) {
    if (n > 1) {
      EXPECT_EQ(repo->FindSnapshot(std::string(1, c)).status().code(), ErrorCode::kAmbiguous);
    }
  }
  EXPECT_EQ(repo->FindSnapshot("0000000000").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(repo->FindSnapshot("xyz").status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace backspan

// Found by fuzzing the repository's formats (fuzz_config, fuzz_key_file,
// fuzz_lock, fuzz_snapshot): numbers that are floats or out of range were
// converted to integers with undefined behaviour; they are damage now.
namespace backspan {
namespace {

ByteView Text(const char* s) { return ByteView(reinterpret_cast<const uint8_t*>(s), std::strlen(s)); }

TEST(RepositoryFormatsTest, NumbersOutOfRangeAreDamage) {
  EXPECT_EQ(ParseKeyFile(Text(R"({"version":1,"kdf":"argon2id","opslimit":3,"memlimit":3.3e19,"salt":"","data":""})"))
                .status()
                .code(),
            ErrorCode::kCorruption);
  EXPECT_EQ(ParseKeyFile(Text(R"({"version":1,"kdf":"argon2id","opslimit":-1,"memlimit":8192,"salt":"","data":""})"))
                .status()
                .code(),
            ErrorCode::kCorruption);
  EXPECT_FALSE(LockFromJson(Text(R"({"job":"j","exclusive":true,"command":"c","hostname":"h","username":"u",)"
                                 R"("pid":1e300,"started":"2026-11-24T00:00:00Z","refreshed":"2026-11-24T00:00:00Z"})"))
                   .ok());
  const std::string snapshot = R"({"time":"2026-11-24T00:00:00Z","tree":")" + std::string(64, 'a') +
                               R"(","paths":["/"],"uid":5.11e21})";
  EXPECT_FALSE(SnapshotFromJson(Text(snapshot.c_str())).ok());
  const MasterKey key{crypto::RandomKey(), crypto::RandomKey()};
  const char* config = R"({"version":1,"id":"x","chunker":{"min_size":5.1e21,"avg_size":1,"max_size":2,"gear_key":""}})";
  EXPECT_EQ(DecodeConfig(crypto::Seal(key.encryption, Text(config), aad::Of(aad::kConfig)), key).status().code(),
            ErrorCode::kCorruption);
}

// Found by fuzz_pack_header: after a first entry of 20 bytes, an entry of
// length 2^64 - 16 wrapped the bounds check around and was accepted.
TEST(RepositoryFormatsTest, PackHeaderEntriesOutsideThePackAreDamage) {
  const MasterKey key{crypto::RandomKey(), crypto::RandomKey()};
  for (uint64_t length : {uint64_t{81}, ~uint64_t{0} - 15}) {
    Encoder header;
    header.PutU8(1);  // version
    header.PutVarint(2);
    for (uint64_t entry_length : {uint64_t{20}, length}) {
      header.PutU8(0);  // data blob
      header.PutU8(0);  // not compressed
      header.PutVarint(entry_length);
      header.PutVarint(10);
      header.PutRaw(Bytes(32, 0));
    }
    Bytes pack(100, 0);
    const Bytes sealed = crypto::Seal(key.encryption, header.Take(), aad::Of(aad::kPackHeader));
    pack.insert(pack.end(), sealed.begin(), sealed.end());
    uint8_t len[4];
    EncodeFixed32(len, static_cast<uint32_t>(sealed.size()));
    pack.insert(pack.end(), len, len + 4);
    auto entries = ReadPackHeader(pack, key);
    EXPECT_EQ(entries.status().code(), ErrorCode::kCorruption) << length;
  }
}

}  // namespace
}  // namespace backspan
