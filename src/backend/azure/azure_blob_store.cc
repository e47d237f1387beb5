#include "backend/azure/azure_blob_store.h"

#include <pugixml.hpp>

#include "backend/azure/azure_auth.h"
#include "crypto/crypto.h"
#include "util/hex.h"
#include "util/time_format.h"

namespace backspan::azure {
namespace {

using object::RestRequest;
using object::StatusFromResponse;

class AzureBlobStore final : public object::ObjectStore {
 public:
  AzureBlobStore(std::string container, std::string prefix, std::string base_path, std::string describe_host,
                 std::unique_ptr<object::RestClient> client, size_t part_size)
      : container_(std::move(container)),
        prefix_(std::move(prefix)),
        base_path_(std::move(base_path)),
        describe_host_(std::move(describe_host)),
        client_(std::move(client)),
        part_size_(part_size) {}

  std::string Describe() const override {
    return "azure://" + container_ + (prefix_.empty() ? "" : "/" + prefix_) + " (" + describe_host_ + ")";
  }
  size_t PartSize() const override { return part_size_; }

  Status CreateContainer() override {
    RestRequest r = Request("create_container", "PUT", ContainerPath());
    r.query = {{"restype", "container"}};
    ASSIGN_OR_RETURN(auto res, client_->Call(std::move(r)));
    if (res.status == 201 || res.status == 409) return Status::Ok();  // made, or there already
    Status st = StatusFromResponse("creating container " + container_, res);
    if (st.code() != ErrorCode::kPermissionDenied && st.code() != ErrorCode::kUnauthenticated) return st;
    // A SAS for the container cannot create one, but may use it: is it there?
    bool any = false;
    Status listed = ListPage("", "", 1, [&](object::ObjectInfo) { any = true; }, nullptr);
    if (listed.ok()) return Status::Ok();
    if (listed.code() == ErrorCode::kNotFound)
      return Status::PermissionDenied("container " + container_ + " does not exist and these credentials may not create it (" +
                                      st.message() + ")");
    return st;
  }

  Status Put(const std::string& key, const net::BodySource& data, bool create_only) override {
    RestRequest r = Request("put", "PUT", BlobPath(key));
    r.headers.emplace_back("x-ms-blob-type", "BlockBlob");
    r.headers.emplace_back("Content-Type", "application/octet-stream");
    if (create_only) r.headers.emplace_back("If-None-Match", "*");
    r.body = data;
    ASSIGN_OR_RETURN(auto res, client_->Call(std::move(r)));
    if (res.status == 201) return Status::Ok();
    return StatusFromResponse("storing " + key, res);
  }

  Result<std::unique_ptr<object::PartUpload>> StartUpload(const std::string& key) override;

  Result<Bytes> Get(const std::string& key, uint64_t offset, uint64_t length) override {
    RestRequest r = Request("get", "GET", BlobPath(key));
    if (length > 0) {
      r.headers.emplace_back("x-ms-range", object::ByteRange(offset, length));
      r.expect_body_bytes = static_cast<int64_t>(length);
    }
    ASSIGN_OR_RETURN(auto res, client_->Call(std::move(r)));
    if (res.status != 200 && res.status != 206) return StatusFromResponse("reading " + key, res);
    return std::move(res.body);
  }

  Result<uint64_t> Size(const std::string& key) override {
    ASSIGN_OR_RETURN(auto res, client_->Call(Request("head", "HEAD", BlobPath(key))));
    if (res.status != 200) return StatusFromResponse("looking up " + key, res);
    return object::ContentLengthOf("looking up " + key, res);
  }

  Status List(const std::string& prefix, const std::function<void(object::ObjectInfo)>& each) override {
    std::string marker;
    do {
      RETURN_IF_ERROR(ListPage(prefix, marker, 5000, each, &marker));
    } while (!marker.empty());
    return Status::Ok();
  }

  Status Delete(const std::string& key) override {
    ASSIGN_OR_RETURN(auto res, client_->Call(Request("delete", "DELETE", BlobPath(key))));
    if (res.status == 202 || res.status == 200 || res.status == 404) return Status::Ok();
    return StatusFromResponse("deleting " + key, res);
  }

  // Blocks staged for a blob that never got its block list are invisible
  // and are discarded by the service after a week; there is nothing to list
  // or remove.
  Result<std::vector<object::UnfinishedUpload>> ListUnfinished(const std::string&) override { return std::vector<object::UnfinishedUpload>{}; }
  Status AbortUnfinished(const object::UnfinishedUpload&) override {
    return Status::Unsupported("Azure discards uncommitted blocks itself");
  }

  std::vector<RequestCounts> Counts() const override { return client_->Counts(); }

  RestRequest Request(const char* operation, const char* method, std::string path) const {
    RestRequest r;
    r.operation = operation;
    r.method = method;
    r.path = std::move(path);
    r.headers.emplace_back("x-ms-version", kApiVersion);
    return r;
  }
  std::string ContainerPath() const { return base_path_ + "/" + object::UriEncode(container_, false); }
  std::string BlobPath(const std::string& key) const { return ContainerPath() + "/" + object::UriEncode(key, true); }
  object::RestClient* client() { return client_.get(); }

 private:
  // One page of List Blobs; `next` gets the marker of the next page ("" at the end).
  Status ListPage(const std::string& prefix, const std::string& marker, int max,
                  const std::function<void(object::ObjectInfo)>& each, std::string* next) {
    RestRequest r = Request("list", "GET", ContainerPath());
    r.query = {{"restype", "container"}, {"comp", "list"}, {"maxresults", std::to_string(max)}};
    if (!prefix.empty()) r.query.emplace_back("prefix", prefix);
    if (!marker.empty()) r.query.emplace_back("marker", marker);
    ASSIGN_OR_RETURN(auto res, client_->Call(std::move(r)));
    if (res.status != 200) return StatusFromResponse("listing container " + container_, res);
    pugi::xml_document doc;
    if (!doc.load_buffer(res.body.data(), res.body.size()))
      return Status::IOError("listing container " + container_ + ": the answer is not XML");
    const pugi::xml_node results = doc.child("EnumerationResults");
    for (pugi::xml_node blob : results.child("Blobs").children("Blob")) {
      object::ObjectInfo info;
      info.key = blob.child_value("Name");
      const pugi::xml_node props = blob.child("Properties");
      info.size = std::strtoull(props.child_value("Content-Length"), nullptr, 10);
      info.mtime_ns = ParseHttpDate(props.child_value("Last-Modified")).value_or(0);
      each(std::move(info));
    }
    if (next) *next = results.child_value("NextMarker");
    return Status::Ok();
  }

  const std::string container_, prefix_, base_path_, describe_host_;
  std::unique_ptr<object::RestClient> client_;
  const size_t part_size_;
};

// Put Block for each part, Put Block List to make the blob. Block ids are
// one upload's random tag and the part's index, all of one length as Azure
// requires.
class BlockUpload final : public object::PartUpload {
 public:
  BlockUpload(AzureBlobStore* store, std::string key) : store_(store), key_(std::move(key)) {
    tag_ = HexEncode(crypto::RandomKey()).substr(0, 16);
  }
  Status UploadPart(int index, const net::BodySource& data) override {
    RestRequest r = store_->Request("put_block", "PUT", store_->BlobPath(key_));
    r.query = {{"comp", "block"}, {"blockid", BlockId(index)}};
    r.headers.emplace_back("Content-Type", "application/octet-stream");
    r.body = data;
    ASSIGN_OR_RETURN(auto res, store_->client()->Call(std::move(r)));
    if (res.status == 201) return Status::Ok();
    return StatusFromResponse("storing a block of " + key_, res);
  }
  Status Complete(int count, bool create_only) override {
    std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
    for (int i = 0; i < count; ++i) xml += "<Latest>" + BlockId(i) + "</Latest>";
    xml += "</BlockList>";
    RestRequest r = store_->Request("put_block_list", "PUT", store_->BlobPath(key_));
    r.query = {{"comp", "blocklist"}};
    r.headers.emplace_back("Content-Type", "application/xml");
    if (create_only) r.headers.emplace_back("If-None-Match", "*");
    r.body = net::BodySource::Of(xml);
    ASSIGN_OR_RETURN(auto res, store_->client()->Call(std::move(r)));
    if (res.status == 201) return Status::Ok();
    return StatusFromResponse("committing the blocks of " + key_, res);
  }
  void Abort() override {}  // uncommitted blocks are discarded by the service

 private:
  std::string BlockId(int index) const {
    char n[16];
    std::snprintf(n, sizeof n, "%08d", index);
    return Base64Encode(AsBytes(tag_ + n));
  }
  AzureBlobStore* store_;
  std::string key_;
  std::string tag_;
};

Result<std::unique_ptr<object::PartUpload>> AzureBlobStore::StartUpload(const std::string& key) {
  return std::unique_ptr<object::PartUpload>(new BlockUpload(this, key));
}

}  // namespace

Result<std::unique_ptr<object::ObjectStore>> OpenAzureBlobStore(const std::string& container, const std::string& prefix,
                                                                 const AzureCredentials& credentials,
                                                                 const AzureOptions& options) {
  // Container names: 3-63 lower-case letters, digits and single hyphens.
  bool valid = container.size() >= 3 && container.size() <= 63 && container.front() != '-' && container.back() != '-' &&
               container.find("--") == std::string::npos;
  for (char c : container) valid = valid && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!valid)
    return Status::InvalidArgument("'" + container +
                                   "' is not an Azure container name (3 to 63 lower-case letters, digits and hyphens)");
  ASSIGN_OR_RETURN(object::Endpoint endpoint, object::ParseEndpoint(credentials.endpoint, options.allow_http));
  // An emulator's endpoint carries the account in its path.
  std::string base_path;
  if (const size_t s = credentials.endpoint.find('/', credentials.endpoint.find("://") + 3); s != std::string::npos)
    base_path = credentials.endpoint.substr(s);
  while (!base_path.empty() && base_path.back() == '/') base_path.pop_back();
  ASSIGN_OR_RETURN(auto signer, MakeSigner(credentials, options.rest.tls, options.allow_http));
  auto client = std::make_unique<object::RestClient>(endpoint, std::move(signer), options.rest);
  return std::unique_ptr<object::ObjectStore>(new AzureBlobStore(container, prefix, base_path, endpoint.HostHeader(),
                                                                 std::move(client), options.part_size));
}

}  // namespace backspan::azure
