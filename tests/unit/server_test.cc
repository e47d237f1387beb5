// The observatory's route table: every endpoint of docs/api.md reaches its
// handler with its method, anything else is a 404 or a 405, over the real
// server on loopback with a real store.
#include <gtest/gtest.h>

#include <thread>

#include "env/env.h"
#include "net/http_client.h"
#include "observatory/api/server.h"
#include "observatory/store/sqlite/sqlite_span_store.h"
#include "test_util.h"

namespace backspan::observatory {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.dir = dir_.Sub("store");
    o.sync_full = false;
    auto store = SqliteSpanStore::Open(o, Env::Default());
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    ServerOptions so;
    so.port = 0;
    so.http.threads = 2;
    server_ = std::make_unique<Server>(so, store_.get(), Env::Default());
    ASSERT_TRUE(server_->Bind().ok());
    thread_ = std::thread([this] { server_->Run(); });
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  void TearDown() override {
    server_->Stop();
    thread_.join();
  }

  net::HttpResponse Call(const std::string& method, const std::string& path, const std::string& body = "",
                         const std::string& type = "application/json") {
    net::HttpRequest req;
    req.method = method;
    req.url = base_ + path;
    req.body = body;
    if (!body.empty() || method == "POST" || method == "PUT") req.headers.push_back({"Content-Type", type});
    auto res = net::Send(req);
    EXPECT_TRUE(res.ok()) << method << " " << path << ": " << res.status().message();
    return res.ok() ? *res : net::HttpResponse{};
  }

  testing::TempDir dir_;
  std::unique_ptr<SpanStore> store_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::string base_;
};

TEST_F(ServerTest, EveryRouteReachesItsHandler) {
  struct Case {
    const char* method;
    const char* path;
    long status;
  };
  const Case cases[] = {
      {"GET", "/healthz", 200},
      {"GET", "/readyz", 200},
      {"GET", "/", 200},
      {"GET", "/assets/app.js", 200},
      {"GET", "/assets/nothing.js", 404},
      {"GET", "/api/v1/jobs", 200},
      {"GET", "/api/v1/jobs?limit=none", 400},
      {"GET", "/api/v1/traces/00000000000000000000000000000001", 404},
      {"GET", "/api/v1/traces/xyz", 400},
      {"GET", "/api/v1/trends", 200},
      {"GET", "/api/v1/freshness", 200},
      {"GET", "/api/v1/tags", 200},
      {"GET", "/metrics", 200},
      {"GET", "/api/v1/plans", 404},  // without --plans there are no operations
      {"GET", "/api/v1/runs", 404},
      {"GET", "/api/v1/runs/none", 404},
      {"POST", "/api/v1/plans/none/backup", 404},  // no plans configured
      {"GET", "/api/v1/access", 404},              // access control is off
      {"GET", "/api/v1/nothing", 404},
  };
  for (const Case& c : cases) EXPECT_EQ(Call(c.method, c.path).status, c.status) << c.method << " " << c.path;
}

TEST_F(ServerTest, AKnownPathWithAnotherMethodIs405) {
  net::HttpResponse res = Call("DELETE", "/api/v1/jobs");
  EXPECT_EQ(res.status, 405);
  EXPECT_NE(res.headers["allow"].find("GET"), std::string::npos) << res.headers["allow"];
  EXPECT_EQ(Call("GET", "/v1/traces").status, 405);
}

TEST_F(ServerTest, IngestRoutesTakeTheirFormats) {
  // An empty OTLP/JSON export request stores nothing and succeeds.
  EXPECT_EQ(Call("POST", "/v1/traces", "{}").status, 200);
  EXPECT_EQ(Call("POST", "/v1/traces", "{}", "text/plain").status, 415);
  const net::HttpResponse events =
      Call("POST", "/api/v1/ingest/events",
           R"({"job_id": "j1", "type": "started", "source": "test", "time": "2026-12-01T10:00:00Z"})");
  EXPECT_EQ(events.status, 200) << events.body;
  EXPECT_EQ(Call("POST", "/api/v1/ingest/events", "{not json").status, 400);
}

}  // namespace
}  // namespace backspan::observatory
