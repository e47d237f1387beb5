#include "backend/s3/s3_store.h"

#include <pugixml.hpp>

#include <mutex>
#include <vector>

#include "util/time_format.h"

namespace backspan::s3 {
namespace {

using object::RestRequest;
using object::StatusFromResponse;

// The XML document of a response, or why not.
Status LoadXml(const net::PooledResponse& res, const std::string& what, pugi::xml_document* doc) {
  if (!doc->load_buffer(res.body.data(), res.body.size())) return Status::IOError(what + ": the answer is not XML");
  return Status::Ok();
}

class S3Store final : public object::ObjectStore {
 public:
  S3Store(std::string bucket, std::string prefix, std::string bucket_path, std::string describe_host,
          std::unique_ptr<object::RestClient> client, std::string region, size_t part_size)
      : bucket_(std::move(bucket)),
        prefix_(std::move(prefix)),
        bucket_path_(std::move(bucket_path)),
        describe_host_(std::move(describe_host)),
        client_(std::move(client)),
        region_(std::move(region)),
        part_size_(part_size) {}

  std::string Describe() const override {
    return "s3://" + bucket_ + (prefix_.empty() ? "" : "/" + prefix_) + " (" + describe_host_ + ")";
  }
  size_t PartSize() const override { return part_size_; }

  Status CreateContainer() override {
    RestRequest r = Request("create_bucket", "PUT", BucketRoot());
    std::string body;
    if (region_ != "us-east-1") {
      body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
             region_ + "</LocationConstraint></CreateBucketConfiguration>";
      r.body = net::BodySource::Of(body);
    }
    ASSIGN_OR_RETURN(auto res, client_->Call(std::move(r)));
    if (res.status == 200) return Status::Ok();
    const std::string why = object::ServiceErrorText(res);
    if (res.status == 409 && why.rfind("BucketAlreadyOwnedByYou", 0) == 0) return Status::Ok();
    Status st = StatusFromResponse("creating bucket " + bucket_, res);
    // Credentials that may not create buckets may still use this one.
    bool any = false;
    Status listed = ListPage("", "", 1, [&](object::ObjectInfo) { any = true; }, nullptr);
    if (listed.ok()) return Status::Ok();
    if (listed.code() == ErrorCode::kNotFound)
      return Status::PermissionDenied("bucket " + bucket_ + " does not exist and could not be created (" + st.message() + ")");
    return st;
  }

  Status Put(const std::string& key, const net::BodySource& data, bool create_only) override {
    RestRequest r = Request("put", "PUT", ObjectPath(key));
    r.headers.emplace_back("Content-Type", "application/octet-stream");
    if (create_only) r.headers.emplace_back("If-None-Match", "*");
    r.body = data;
    ASSIGN_OR_RETURN(auto res, client_->Call(std::move(r)));
    if (res.status == 200) return Status::Ok();
    return StatusFromResponse("storing " + key, res);
  }

  Result<std::unique_ptr<object::PartUpload>> StartUpload(const std::string& key) override;

  Result<Bytes> Get(const std::string& key, uint64_t offset, uint64_t length) override {
    RestRequest r = Request("get", "GET", ObjectPath(key));
    if (length > 0) {
      r.headers.emplace_back("Range", object::ByteRange(offset, length));
      r.expect_body_bytes = static_cast<int64_t>(length);
    }
    ASSIGN_OR_RETURN(auto res, client_->Call(std::move(r)));
    if (res.status != 200 && res.status != 206) return StatusFromResponse("reading " + key, res);
    return std::move(res.body);
  }

  Result<uint64_t> Size(const std::string& key) override {
    ASSIGN_OR_RETURN(auto res, client_->Call(Request("head", "HEAD", ObjectPath(key))));
    if (res.status != 200) return StatusFromResponse("looking up " + key, res);
    return object::ContentLengthOf("looking up " + key, res);
  }

  Status List(const std::string& prefix, const std::function<void(object::ObjectInfo)>& each) override {
    std::string token;
    do {
      RETURN_IF_ERROR(ListPage(prefix, token, 1000, each, &token));
    } while (!token.empty());
    return Status::Ok();
  }

  Status Delete(const std::string& key) override {
    ASSIGN_OR_RETURN(auto res, client_->Call(Request("delete", "DELETE", ObjectPath(key))));
    if (res.status == 204 || res.status == 200 || res.status == 404) return Status::Ok();
    return StatusFromResponse("deleting " + key, res);
  }

  Result<std::vector<object::UnfinishedUpload>> ListUnfinished(const std::string& prefix) override {
    std::vector<object::UnfinishedUpload> out;
    std::string key_marker, id_marker;
    for (;;) {
      RestRequest r = Request("list_uploads", "GET", BucketRoot());
      r.query = {{"uploads", ""}, {"prefix", prefix}};
      if (!key_marker.empty()) r.query.insert(r.query.end(), {{"key-marker", key_marker}, {"upload-id-marker", id_marker}});
      ASSIGN_OR_RETURN(auto res, client_->Call(std::move(r)));
      // An S3-compatible store without this call (501, or another kind of
      // answer) keeps no unfinished uploads we could see.
      if (res.status == 501) return out;
      if (res.status != 200) return StatusFromResponse("listing the unfinished uploads of " + bucket_, res);
      pugi::xml_document doc;
      RETURN_IF_ERROR(LoadXml(res, "listing the unfinished uploads of " + bucket_, &doc));
      const pugi::xml_node result = doc.child("ListMultipartUploadsResult");
      if (!result) return out;
      for (pugi::xml_node u : result.children("Upload"))
        out.push_back({u.child_value("Key"), u.child_value("UploadId"), ParseRfc3339(u.child_value("Initiated")).value_or(0)});
      if (std::string(result.child_value("IsTruncated")) != "true") return out;
      key_marker = result.child_value("NextKeyMarker");
      id_marker = result.child_value("NextUploadIdMarker");
      if (key_marker.empty()) return out;
    }
  }

  Status AbortUnfinished(const object::UnfinishedUpload& u) override {
    RestRequest r = Request("abort_upload", "DELETE", ObjectPath(u.key));
    r.query = {{"uploadId", u.upload_id}};
    ASSIGN_OR_RETURN(auto res, client_->Call(std::move(r)));
    if (res.status == 204 || res.status == 200 || res.status == 404) return Status::Ok();
    return StatusFromResponse("aborting the upload of " + u.key, res);
  }

  std::vector<RequestCounts> Counts() const override { return client_->Counts(); }

  RestRequest Request(const char* operation, const char* method, std::string path) const {
    RestRequest r;
    r.operation = operation;
    r.method = method;
    r.path = std::move(path);
    return r;
  }
  std::string BucketRoot() const { return bucket_path_.empty() ? "/" : bucket_path_; }
  std::string ObjectPath(const std::string& key) const { return bucket_path_ + "/" + object::UriEncode(key, true); }
  object::RestClient* client() { return client_.get(); }

 private:
  Status ListPage(const std::string& prefix, const std::string& token, int max,
                  const std::function<void(object::ObjectInfo)>& each, std::string* next) {
    RestRequest r = Request("list", "GET", BucketRoot());
    r.query = {{"list-type", "2"}, {"max-keys", std::to_string(max)}};
    if (!prefix.empty()) r.query.emplace_back("prefix", prefix);
    if (!token.empty()) r.query.emplace_back("continuation-token", token);
    ASSIGN_OR_RETURN(auto res, client_->Call(std::move(r)));
    if (res.status != 200) return StatusFromResponse("listing bucket " + bucket_, res);
    pugi::xml_document doc;
    RETURN_IF_ERROR(LoadXml(res, "listing bucket " + bucket_, &doc));
    const pugi::xml_node result = doc.child("ListBucketResult");
    for (pugi::xml_node c : result.children("Contents")) {
      object::ObjectInfo info;
      info.key = c.child_value("Key");
      info.size = std::strtoull(c.child_value("Size"), nullptr, 10);
      info.mtime_ns = ParseRfc3339(c.child_value("LastModified")).value_or(0);
      each(std::move(info));
    }
    if (next) *next = std::string(result.child_value("IsTruncated")) == "true" ? result.child_value("NextContinuationToken") : "";
    return Status::Ok();
  }

  const std::string bucket_, prefix_, bucket_path_, describe_host_;
  std::unique_ptr<object::RestClient> client_;
  const std::string region_;
  const size_t part_size_;
};

// CreateMultipartUpload, UploadPart for each part, CompleteMultipartUpload.
class MultipartUpload final : public object::PartUpload {
 public:
  MultipartUpload(S3Store* store, std::string key, std::string upload_id)
      : store_(store), key_(std::move(key)), upload_id_(std::move(upload_id)) {}
  ~MultipartUpload() override {
    if (!done_) Abort();
  }
  Status UploadPart(int index, const net::BodySource& data) override {
    RestRequest r = store_->Request("put_part", "PUT", store_->ObjectPath(key_));
    r.query = {{"partNumber", std::to_string(index + 1)}, {"uploadId", upload_id_}};
    r.body = data;
    ASSIGN_OR_RETURN(auto res, store_->client()->Call(std::move(r)));
    if (res.status != 200) return StatusFromResponse("storing a part of " + key_, res);
    auto etag = res.headers.find("etag");
    if (etag == res.headers.end()) return Status::IOError("storing a part of " + key_ + ": the answer has no ETag");
    std::lock_guard lock(mu_);
    if (etags_.size() <= static_cast<size_t>(index)) etags_.resize(static_cast<size_t>(index) + 1);
    etags_[static_cast<size_t>(index)] = etag->second;
    return Status::Ok();
  }
  Status Complete(int count, bool create_only) override {
    std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    {
      std::lock_guard lock(mu_);
      if (etags_.size() < static_cast<size_t>(count)) return Status::Internal("completing " + key_ + " before its parts");
      for (int i = 0; i < count; ++i)
        xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags_[static_cast<size_t>(i)] +
               "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    RestRequest r = store_->Request("complete_upload", "POST", store_->ObjectPath(key_));
    r.query = {{"uploadId", upload_id_}};
    r.headers.emplace_back("Content-Type", "application/xml");
    if (create_only) r.headers.emplace_back("If-None-Match", "*");
    r.body = net::BodySource::Of(xml);
    ASSIGN_OR_RETURN(auto res, store_->client()->Call(std::move(r)));
    // S3 may answer 200 and report the failure in the body.
    pugi::xml_document doc;
    const bool error_body = res.status == 200 && doc.load_buffer(res.body.data(), res.body.size()) && doc.child("Error");
    if (res.status == 200 && !error_body) {
      done_ = true;
      return Status::Ok();
    }
    if (error_body) res.status = 500;
    return StatusFromResponse("completing the upload of " + key_, res);
  }
  void Abort() override {
    done_ = true;
    (void)store_->AbortUnfinished({key_, upload_id_, 0});
  }

 private:
  S3Store* store_;
  std::string key_, upload_id_;
  std::mutex mu_;
  std::vector<std::string> etags_;
  bool done_ = false;
};

Result<std::unique_ptr<object::PartUpload>> S3Store::StartUpload(const std::string& key) {
  RestRequest r = Request("create_upload", "POST", ObjectPath(key));
  r.query = {{"uploads", ""}};
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  ASSIGN_OR_RETURN(auto res, client_->Call(std::move(r)));
  if (res.status != 200) return StatusFromResponse("starting the upload of " + key, res);
  pugi::xml_document doc;
  RETURN_IF_ERROR(LoadXml(res, "starting the upload of " + key, &doc));
  const std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty()) return Status::IOError("starting the upload of " + key + ": the answer has no UploadId");
  return std::unique_ptr<object::PartUpload>(new MultipartUpload(this, key, id));
}

}  // namespace

Result<std::unique_ptr<object::ObjectStore>> OpenS3Store(const std::string& bucket, const std::string& prefix,
                                                         const AwsConfig& config, const S3Options& options) {
  bool valid = bucket.size() >= 3 && bucket.size() <= 63;
  for (char c : bucket) valid = valid && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
  if (!valid)
    return Status::InvalidArgument("'" + bucket + "' is not an S3 bucket name (3 to 63 lower-case letters, digits, '.' and '-')");
  std::string url = config.endpoint, bucket_path = "/" + bucket;
  if (url.empty()) {
    // AWS: the bucket in the host name, unless its dots would break TLS.
    if (bucket.find('.') == std::string::npos) {
      url = "https://" + bucket + ".s3." + config.region + ".amazonaws.com";
      bucket_path.clear();
    } else {
      url = "https://s3." + config.region + ".amazonaws.com";
    }
  } else if (const size_t s = url.find('/', url.find("://") + 3); s != std::string::npos) {
    bucket_path = url.substr(s) + bucket_path;  // an endpoint with a path of its own
  }
  ASSIGN_OR_RETURN(object::Endpoint endpoint, object::ParseEndpoint(url, options.allow_http));
  auto client = std::make_unique<object::RestClient>(endpoint, MakeS3Signer(config.credentials, config.region), options.rest);
  return std::unique_ptr<object::ObjectStore>(new S3Store(bucket, prefix, bucket_path, endpoint.HostHeader(),
                                                          std::move(client), config.region, options.part_size));
}

}  // namespace backspan::s3
