// The cloud backends' pure parts: AWS Signature Version 4 against AWS's
// published vectors, Azure Shared Key's string to sign, where credentials
// come from (Azure and AWS conventions), endpoints, the repository layout
// and create-only writes over an object store, and the metadata cache.
// The REST conversations themselves are tested against Azurite and s3rver
// (tests/integration/test_cloud.py).
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "backend/azure/azure_auth.h"
#include "backend/azure/azure_credentials.h"
#include "backend/cache/cached_backend.h"
#include "backend/local/local_backend.h"
#include "backend/object/object_backend.h"
#include "backend/object/rest_client.h"
#include "backend/s3/aws_config.h"
#include "backend/s3/sigv4.h"
#include "crypto/crypto.h"
#include "test_util.h"
#include "util/hex.h"

namespace backspan {
namespace {

constexpr const char* kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

object::RestRequest Req(const char* method, const char* path,
                        std::vector<std::pair<std::string, std::string>> headers,
                        std::vector<std::pair<std::string, std::string>> query = {}) {
  object::RestRequest r;
  r.method = method;
  r.path = path;
  r.headers = std::move(headers);
  r.query = std::move(query);
  return r;
}

// The Signature Version 4 test suite's credentials and request time.
const s3::AwsCredentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
// The S3 API reference's examples ("Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk").
const s3::AwsCredentials kS3Doc{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};

TEST(SigV4Test, GetVanilla) {
  auto p = s3::SignV4(Req("GET", "/", {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}}),
                      kSuite, "us-east-1", "service", "20150830T123600Z", kEmptyHash);
  EXPECT_EQ(p.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                std::string(kEmptyHash));
  EXPECT_EQ(p.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(p.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Test, QueryParametersAreSorted) {
  // get-vanilla-query-order-key-case
  auto p = s3::SignV4(Req("GET", "/", {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                          {{"Param2", "value2"}, {"Param1", "value1"}}),
                      kSuite, "us-east-1", "service", "20150830T123600Z", kEmptyHash);
  EXPECT_NE(p.canonical_request.find("\nParam1=value1&Param2=value2\n"), std::string::npos);
  EXPECT_EQ(p.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Test, S3GetObjectWithRange) {
  auto p = s3::SignV4(Req("GET", "/test.txt",
                          {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"},
                           {"x-amz-content-sha256", kEmptyHash}, {"x-amz-date", "20130524T000000Z"}}),
                      kS3Doc, "us-east-1", "s3", "20130524T000000Z", kEmptyHash);
  EXPECT_EQ(p.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(p.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, S3PutObject) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = HexEncode(crypto::Sha256(AsBytes(body)));
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  // The key "test$file.text", percent-encoded as the path is sent.
  EXPECT_EQ(object::UriEncode("/test$file.text", true), "/test%24file.text");
  auto p = s3::SignV4(Req("PUT", "/test%24file.text",
                          {{"Host", "examplebucket.s3.amazonaws.com"}, {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                           {"x-amz-date", "20130524T000000Z"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                           {"x-amz-content-sha256", hash}}),
                      kS3Doc, "us-east-1", "s3", "20130524T000000Z", hash);
  EXPECT_EQ(p.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(p.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(p.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, S3GetBucketLifecycleAndListObjects) {
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Host", "examplebucket.s3.amazonaws.com"}, {"x-amz-date", "20130524T000000Z"}, {"x-amz-content-sha256", kEmptyHash}};
  auto lifecycle = s3::SignV4(Req("GET", "/", headers, {{"lifecycle", ""}}), kS3Doc, "us-east-1", "s3",
                              "20130524T000000Z", kEmptyHash);
  EXPECT_NE(lifecycle.canonical_request.find("\nlifecycle=\n"), std::string::npos);
  EXPECT_EQ(lifecycle.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  auto list = s3::SignV4(Req("GET", "/", headers, {{"prefix", "J"}, {"max-keys", "2"}}), kS3Doc, "us-east-1", "s3",
                         "20130524T000000Z", kEmptyHash);
  EXPECT_NE(list.canonical_request.find("\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(list.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, HeaderValuesAreTrimmedAndCollapsed) {
  auto p = s3::SignV4(Req("GET", "/", {{"Host", "example.amazonaws.com"}, {"My-Header1", "  a   b  c  "},
                                       {"My-Header1", "second"}}),
                      kSuite, "us-east-1", "service", "20150830T123600Z", kEmptyHash);
  EXPECT_EQ(p.signed_headers, "host;my-header1");
  EXPECT_NE(p.canonical_request.find("my-header1:a b c,second\n"), std::string::npos);
}

TEST(AzureAuthTest, SharedKeyStringToSign) {
  object::RestRequest r = Req("PUT", "/devstoreaccount1/c1/data/ab/abcd",
                              {{"x-ms-version", "2021-12-02"}, {"x-ms-date", "Sun, 06 Dec 2026 10:00:00 GMT"},
                               {"Content-Type", "application/octet-stream"}, {"If-None-Match", "*"},
                               {"x-ms-blob-type", "BlockBlob"}},
                              {{"comp", "block"}, {"blockid", "QUJD"}});
  const std::string body = "12345";
  r.body = net::BodySource::Of(body);
  EXPECT_EQ(azure::SharedKeyStringToSign(r, "devstoreaccount1"),
            "PUT\n\n\n5\n\napplication/octet-stream\n\n\n\n*\n\n\n"
            "x-ms-blob-type:BlockBlob\nx-ms-date:Sun, 06 Dec 2026 10:00:00 GMT\nx-ms-version:2021-12-02\n"
            "/devstoreaccount1/devstoreaccount1/c1/data/ab/abcd\nblockid:QUJD\ncomp:block");
  // A zero length is an empty line, as version 2015-02-21 and later sign it.
  r.body = net::BodySource();
  EXPECT_EQ(azure::SharedKeyStringToSign(r, "a").substr(0, 11), "PUT\n\n\n\n\napp");
}

azure::GetEnv Vars(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(AzureCredentialsTest, ConnectionStringsAndTheirPrecedence) {
  auto dev = azure::AzureCredentialsFromEnvironment(Vars({{"AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true"},
                                                         {"AZURE_STORAGE_ACCOUNT", "ignored"}}));
  ASSERT_TRUE(dev.ok()) << dev.status().message();
  EXPECT_EQ(dev->account, "devstoreaccount1");
  EXPECT_EQ(dev->endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_EQ(dev->kind, azure::AzureCredentials::Kind::kSharedKey);

  auto cs = azure::ParseConnectionString(
      "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=AAAA;EndpointSuffix=core.chinacloudapi.cn");
  ASSERT_TRUE(cs.ok());
  EXPECT_EQ(cs->endpoint, "https://acct.blob.core.chinacloudapi.cn");
  auto sas = azure::ParseConnectionString("BlobEndpoint=https://h/;SharedAccessSignature=?sv=1&sig=a%2Bb");
  ASSERT_TRUE(sas.ok());
  EXPECT_EQ(sas->kind, azure::AzureCredentials::Kind::kSas);
  EXPECT_EQ(sas->sas, "sv=1&sig=a%2Bb");
  EXPECT_FALSE(azure::ParseConnectionString("AccountName=a").ok());
  EXPECT_FALSE(azure::ParseConnectionString("AccountName=a;AccountKey=not base64!").ok());

  auto key = azure::AzureCredentialsFromEnvironment(Vars({{"AZURE_STORAGE_ACCOUNT", "acct"}, {"AZURE_STORAGE_KEY", "AAAA"},
                                                         {"AZURE_STORAGE_SAS_TOKEN", "sv=1"}}));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->kind, azure::AzureCredentials::Kind::kSharedKey);  // a key before a SAS
  EXPECT_EQ(key->endpoint, "https://acct.blob.core.windows.net");

  auto secret = azure::AzureCredentialsFromEnvironment(
      Vars({{"AZURE_STORAGE_ACCOUNT", "acct"}, {"AZURE_TENANT_ID", "t"}, {"AZURE_CLIENT_ID", "c"},
            {"AZURE_CLIENT_SECRET", "s"}, {"AZURE_AUTHORITY_HOST", "https://login.example/"},
            {"AZURE_STORAGE_ENDPOINT", "https://blob.example/"}}));
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->kind, azure::AzureCredentials::Kind::kClientSecret);
  EXPECT_EQ(secret->authority, "https://login.example");
  EXPECT_EQ(secret->endpoint, "https://blob.example");

  auto mi = azure::AzureCredentialsFromEnvironment(Vars({{"AZURE_STORAGE_ACCOUNT", "acct"}}));
  ASSERT_TRUE(mi.ok());
  EXPECT_EQ(mi->kind, azure::AzureCredentials::Kind::kManagedIdentity);

  auto none = azure::AzureCredentialsFromEnvironment(Vars({}));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("AZURE_STORAGE_CONNECTION_STRING"), std::string::npos);
}

TEST(AwsConfigTest, EnvironmentThenProfiles) {
  std::map<std::string, std::string> files = {
      {"/h/.aws/credentials", "[default]\naws_access_key_id = AKD\naws_secret_access_key = SKD\n"
                              "[work]\naws_access_key_id=AKW\naws_secret_access_key=SKW\naws_session_token=TOK\n"},
      {"/h/.aws/config", "[default]\nregion = eu-west-1\n[profile work]\nregion=us-west-2\n"
                         "endpoint_url = http://minio:9000/\n"}};
  auto read = [&](const std::string& path) -> Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return Status::NotFound(path);
    return it->second;
  };
  auto env = s3::AwsConfigFromEnvironment(Vars({{"HOME", "/h"}, {"AWS_ACCESS_KEY_ID", "AKE"},
                                               {"AWS_SECRET_ACCESS_KEY", "SKE"}, {"AWS_REGION", "ap-south-1"}}), read);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->credentials.access_key_id, "AKE");
  EXPECT_EQ(env->region, "ap-south-1");
  EXPECT_EQ(env->endpoint, "");
  auto def = s3::AwsConfigFromEnvironment(Vars({{"HOME", "/h"}}), read);
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->credentials.secret_access_key, "SKD");
  EXPECT_EQ(def->region, "eu-west-1");
  auto work = s3::AwsConfigFromEnvironment(Vars({{"HOME", "/h"}, {"AWS_PROFILE", "work"}}), read);
  ASSERT_TRUE(work.ok());
  EXPECT_EQ(work->credentials.session_token, "TOK");
  EXPECT_EQ(work->region, "us-west-2");
  EXPECT_EQ(work->endpoint, "http://minio:9000");
  auto endpoint = s3::AwsConfigFromEnvironment(
      Vars({{"HOME", "/h"}, {"AWS_ENDPOINT_URL", "http://a"}, {"AWS_ENDPOINT_URL_S3", "http://b"}}), read);
  EXPECT_EQ(endpoint->endpoint, "http://b");
  auto missing = s3::AwsConfigFromEnvironment(Vars({{"HOME", "/h"}, {"AWS_PROFILE", "nope"}}), read);
  EXPECT_FALSE(missing.ok());
}

TEST(EndpointTest, PlainHttpOnlyOnLoopbackUnlessAllowed) {
  EXPECT_TRUE(object::ParseEndpoint("http://127.0.0.1:10000/devstoreaccount1", false).ok());
  EXPECT_TRUE(object::ParseEndpoint("http://localhost:9000", false).ok());
  auto remote = object::ParseEndpoint("http://storage.example.com", false);
  ASSERT_FALSE(remote.ok());
  EXPECT_NE(remote.status().message().find("--insecure-http"), std::string::npos);
  EXPECT_TRUE(object::ParseEndpoint("http://storage.example.com", true).ok());
  auto https = object::ParseEndpoint("https://acct.blob.core.windows.net", false);
  ASSERT_TRUE(https.ok());
  EXPECT_EQ(https->port, 443);
  EXPECT_EQ(https->HostHeader(), "acct.blob.core.windows.net");
  EXPECT_EQ(object::ParseEndpoint("http://[::1]:8080/x", false)->HostHeader(), "[::1]:8080");
  EXPECT_FALSE(object::ParseEndpoint("ftp://x", true).ok());
  EXPECT_FALSE(object::ParseEndpoint("http://h:99999", true).ok());
}

// An object store in memory, with the create-only rule of the real ones.
class MemoryStore final : public object::ObjectStore {
 public:
  std::string Describe() const override { return "memory://"; }
  size_t PartSize() const override { return 1000; }
  Status CreateContainer() override { return Status::Ok(); }
  Status Put(const std::string& key, const net::BodySource& data, bool create_only) override {
    std::string bytes(data.size, '\0');
    RETURN_IF_ERROR(data.read(0, reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()));
    std::lock_guard lock(mu);
    ++puts;
    if (create_only && objects.count(key)) return Status::AlreadyExists(key);
    objects[key] = bytes;
    return Status::Ok();
  }
  Result<std::unique_ptr<object::PartUpload>> StartUpload(const std::string& key) override;
  Result<Bytes> Get(const std::string& key, uint64_t offset, uint64_t length) override {
    std::lock_guard lock(mu);
    auto it = objects.find(key);
    if (it == objects.end()) return Status::NotFound(key);
    const std::string part = length ? it->second.substr(offset, length) : it->second;
    return Bytes(part.begin(), part.end());
  }
  Result<uint64_t> Size(const std::string& key) override {
    std::lock_guard lock(mu);
    auto it = objects.find(key);
    if (it == objects.end()) return Status::NotFound(key);
    return it->second.size();
  }
  Status List(const std::string& prefix, const std::function<void(object::ObjectInfo)>& each) override {
    std::lock_guard lock(mu);
    for (const auto& [k, v] : objects)
      if (k.rfind(prefix, 0) == 0) each({k, v.size(), 0});
    return Status::Ok();
  }
  Status Delete(const std::string& key) override {
    std::lock_guard lock(mu);
    objects.erase(key);
    return Status::Ok();
  }
  Result<std::vector<object::UnfinishedUpload>> ListUnfinished(const std::string&) override { return unfinished; }
  Status AbortUnfinished(const object::UnfinishedUpload& u) override {
    aborted.push_back(u.key + "/" + u.upload_id);
    return Status::Ok();
  }
  std::vector<RequestCounts> Counts() const override { return {}; }

  std::mutex mu;
  std::map<std::string, std::string> objects;
  std::vector<object::UnfinishedUpload> unfinished;
  std::vector<std::string> aborted;
  int puts = 0, parts = 0, aborts = 0;
};

class MemoryUpload final : public object::PartUpload {
 public:
  MemoryUpload(MemoryStore* s, std::string key) : s_(s), key_(std::move(key)) {}
  Status UploadPart(int index, const net::BodySource& data) override {
    std::string bytes(data.size, '\0');
    RETURN_IF_ERROR(data.read(0, reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()));
    std::lock_guard lock(s_->mu);
    ++s_->parts;
    parts_[index] = bytes;
    return Status::Ok();
  }
  Status Complete(int count, bool create_only) override {
    std::string all;
    for (int i = 0; i < count; ++i) all += parts_[i];
    return s_->Put(key_, net::BodySource::Of(all), create_only);
  }
  void Abort() override { ++s_->aborts; }

 private:
  MemoryStore* s_;
  std::string key_;
  std::map<int, std::string> parts_;
};

Result<std::unique_ptr<object::PartUpload>> MemoryStore::StartUpload(const std::string& key) {
  return std::unique_ptr<object::PartUpload>(new MemoryUpload(this, key));
}

std::string Named(const std::string& content) { return HexEncode(crypto::Sha256(AsBytes(content))); }

TEST(ObjectBackendTest, LayoutPartsAndCreateOnlyWrites) {
  testing::TempDir tmp;
  auto owned = std::make_unique<MemoryStore>();
  MemoryStore* store = owned.get();
  object::ObjectBackend backend(std::move(owned), "/backups/host1/", Env::Default(), {tmp.path(), 3});
  ASSERT_TRUE(backend.Create().ok());
  ASSERT_TRUE(backend.Save(FileType::kConfig, "config", AsBytes(std::string("cfg"))).ok());
  EXPECT_EQ(store->objects.count("backups/host1/config"), 1u);
  EXPECT_TRUE(*backend.IsRepository());
  // A second init finds it.
  EXPECT_EQ(backend.Save(FileType::kConfig, "config", AsBytes(std::string("other"))).code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(backend.Create().code(), ErrorCode::kAlreadyExists);

  // A pack larger than a part streams through a temporary file and goes up in parts.
  std::string pack(4500, 'p');
  for (size_t i = 0; i < pack.size(); ++i) pack[i] = static_cast<char>(i * 7);
  auto pending = backend.Begin(FileType::kPack);
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE((*pending)->Append(AsBytes(pack.substr(0, 2000))).ok());
  ASSERT_TRUE((*pending)->Append(AsBytes(pack.substr(2000))).ok());
  const std::string id = Named(pack);
  ASSERT_TRUE((*pending)->Commit(id).ok());
  EXPECT_EQ(store->parts, 5);
  EXPECT_EQ(store->objects["backups/host1/data/" + id.substr(0, 2) + "/" + id], pack);
  EXPECT_EQ(AsString(*backend.Load(FileType::kPack, id, 1000, 10)), pack.substr(1000, 10));
  EXPECT_EQ(*backend.List(FileType::kPack), std::vector<std::string>{id});

  // The same bytes again (a retry, another host): done, not an error.
  EXPECT_TRUE(backend.Save(FileType::kPack, id, AsBytes(pack)).ok());
  // Other bytes under a name that is not their hash: damage, never an overwrite.
  store->objects["backups/host1/index/" + Named("x")] = "not x";
  Status st = backend.Save(FileType::kIndex, Named("x"), AsBytes(std::string("x")));
  EXPECT_EQ(st.code(), ErrorCode::kCorruption);
  EXPECT_EQ(store->objects["backups/host1/index/" + Named("x")], "not x");

  // Objects outside the layout are not listed as files.
  store->objects["backups/host1/data/zz/" + id] = "misplaced";
  store->objects["backups/host1/snapshots/sub/x"] = "nested";
  EXPECT_EQ(backend.List(FileType::kPack)->size(), 1u);
  EXPECT_TRUE(backend.List(FileType::kSnapshot)->empty());

  // Unfinished uploads are leftovers prune may abort.
  store->unfinished = {{"backups/host1/data/ab/abc", "u-1", 5}};
  auto leftovers = backend.ListLeftovers();
  ASSERT_EQ(leftovers->size(), 1u);
  ASSERT_TRUE(backend.RemoveLeftover((*leftovers)[0].name).ok());
  EXPECT_EQ(store->aborted, std::vector<std::string>{"backups/host1/data/ab/abc/u-1"});
  EXPECT_FALSE(backend.RemoveLeftover("elsewhere/x?uploadId=1").ok());
}

TEST(ObjectBackendTest, CreateRefusesAPrefixHoldingOtherObjects) {
  testing::TempDir tmp;
  auto owned = std::make_unique<MemoryStore>();
  owned->objects["p/notes.txt"] = "hello";
  object::ObjectBackend backend(std::move(owned), "p", Env::Default(), {tmp.path(), 2});
  Status st = backend.Create();
  EXPECT_EQ(st.code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(st.message().find("holds other objects"), std::string::npos);
}

TEST(CachedBackendTest, EntriesAreVerifiedAndDamagedOnesFetchedAgain) {
  testing::TempDir tmp;
  auto local = std::make_unique<LocalBackend>(Env::Default(), tmp.Sub("repo"));
  ASSERT_TRUE(local->Create().ok());
  LocalBackend* inner = local.get();
  auto cached = NewCachedBackend(std::move(local), tmp.Sub("cache"), Env::Default());
  const std::string snapshot = "{\"a snapshot\": 1}";
  const std::string name = Named(snapshot);
  ASSERT_TRUE(cached->Save(FileType::kSnapshot, name, AsBytes(snapshot)).ok());
  // Written through: the cache has it, so a read needs no repository.
  ASSERT_TRUE(inner->Remove(FileType::kSnapshot, name).ok());
  EXPECT_EQ(AsString(*cached->Load(FileType::kSnapshot, name, 0, 0)), snapshot);
  // A damaged entry is not trusted: it is dropped and read again.
  ASSERT_TRUE(inner->Save(FileType::kSnapshot, name, AsBytes(snapshot)).ok());
  std::string entry;
  for (const auto& dir : {tmp.Sub("cache")}) {
    auto top = Env::Default()->ReadDir(dir);
    ASSERT_TRUE(top.ok());
    entry = dir + "/" + (*top)[0].name + "/snapshots/" + name;
  }
  testing::WriteFile(entry, "{\"a snapshoT\": 1}");
  EXPECT_EQ(AsString(*cached->Load(FileType::kSnapshot, name, 0, 0)), snapshot);
  EXPECT_EQ(testing::ReadFile(entry), snapshot);
  // What the repository no longer lists leaves the cache when listed.
  ASSERT_TRUE(inner->Remove(FileType::kSnapshot, name).ok());
  EXPECT_TRUE(cached->List(FileType::kSnapshot)->empty());
  EXPECT_FALSE(Env::Default()->Exists(entry));
  // Tree packs are cached whole and read by range.
  const std::string pack = std::string(100, 't') + "tree bytes" + std::string(100, 'u');
  ASSERT_TRUE(inner->Save(FileType::kPack, Named(pack), AsBytes(pack)).ok());
  EXPECT_EQ(AsString(*cached->LoadTreeRange(Named(pack), 100, 10)), "tree bytes");
  ASSERT_TRUE(inner->Remove(FileType::kPack, Named(pack)).ok());
  EXPECT_EQ(AsString(*cached->LoadTreeRange(Named(pack), 100, 10)), "tree bytes");
}

}  // namespace
}  // namespace backspan
