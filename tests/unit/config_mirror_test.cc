// Configuration files kept in step across replicas through a real
// PostgreSQL store's shared documents.
#include "observatory/replicas/config_mirror.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "test_stores.h"
#include "test_util.h"

namespace backspan::observatory {
namespace {

Status ValidJson(std::string_view text) {
  return !text.empty() && text.front() == '{' ? Status::Ok() : Status::InvalidArgument("not a JSON object");
}

class ConfigMirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(testing::StoreKind::kPostgres, StoreOptions{}, dir_.Sub("store"));
    ASSERT_NE(store_, nullptr);
    ASSERT_NE(store_->Shared(), nullptr);
  }
  std::unique_ptr<ConfigMirror> Mirror(const std::string& file, const std::string& text) {
    testing::WriteFile(dir_.Sub(file), text);
    return std::make_unique<ConfigMirror>(Env::Default(), dir_.Sub(file), "access configuration",
                                          store_->Shared(), ValidJson);
  }
  // An edit an operator makes: a new file, so a new mtime.
  void Edit(const std::string& file, const std::string& text) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    testing::WriteFile(dir_.Sub(file), text);
  }
  std::string Read(const std::string& file) { return testing::ReadFile(dir_.Sub(file)); }

  testing::TempDir dir_;
  std::unique_ptr<SpanStore> store_;
};

TEST_F(ConfigMirrorTest, EditsOnEitherReplicaReachTheOtherAndBadOnesStayPut) {
  auto a = Mirror("a.json", "{\"v\": 1}");
  auto b = Mirror("b.json", "{\"v\": 0, \"stale\": true}");
  // The first replica's file becomes the shared one; the second's is replaced, and says so.
  ASSERT_EQ(*a->Start(), "");
  auto note = b->Start();
  ASSERT_TRUE(note.ok()) << note.status().message();
  EXPECT_NE(note->find("replaced"), std::string::npos) << *note;
  EXPECT_EQ(Read("b.json"), "{\"v\": 1}");
  EXPECT_FALSE(*a->Poll());
  EXPECT_FALSE(*b->Poll());

  Edit("a.json", "{\"v\": 2}");
  EXPECT_FALSE(*a->Poll());  // shared
  EXPECT_TRUE(*b->Poll());   // replaced: reload
  EXPECT_EQ(Read("b.json"), "{\"v\": 2}");
  EXPECT_FALSE(*b->Poll());  // its own rewrite is not an edit to share back

  // A bad edit is refused once, by name, and shared never.
  Edit("b.json", "nonsense");
  auto bad = b->Poll();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("b.json"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(*b->Poll());
  EXPECT_FALSE(*a->Poll());
  EXPECT_EQ(Read("a.json"), "{\"v\": 2}");

  // Edited on both sides between polls: what was shared first wins.
  Edit("b.json", "{\"v\": 3}");
  Edit("a.json", "{\"v\": 4}");
  EXPECT_FALSE(*b->Poll());
  EXPECT_TRUE(*a->Poll());
  EXPECT_EQ(Read("a.json"), "{\"v\": 3}");
  auto doc = store_->Shared()->Get("access configuration");
  ASSERT_TRUE(doc.ok() && doc->has_value());
  EXPECT_EQ((*doc)->body, "{\"v\": 3}");
  EXPECT_EQ((*doc)->version, 3);
}

}  // namespace
}  // namespace backspan::observatory
