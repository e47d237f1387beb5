// ObjectStore: one cloud object store's REST API (Azure Blob Storage, S3),
// reduced to what a repository needs. Keys are whole object names within
// the container or bucket, the location's prefix included; the repository
// layout on top of them is ObjectBackend's. Every call is one logical
// operation, retried inside the store (backend/object/rest_client.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "net/body_source.h"
#include "util/bytes.h"
#include "util/status.h"

namespace backspan::object {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

// A large object being uploaded in parts, invisible until Complete.
class PartUpload {
 public:
  virtual ~PartUpload() = default;
  // Uploads part `index` (0-based, in the object's order). Thread-safe:
  // parts may upload concurrently and in any order.
  virtual Status UploadPart(int index, const net::BodySource& data) = 0;
  // Makes the object visible from parts 0..count-1. With `create_only`,
  // AlreadyExists if the key exists (If-None-Match: *).
  virtual Status Complete(int count, bool create_only) = 0;
  // Discards what was uploaded, best effort (no orphan parts stay billed).
  virtual void Abort() = 0;
};

// An upload an interrupted writer left unfinished.
struct UnfinishedUpload {
  std::string key;
  std::string upload_id;
  int64_t started_ns = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // The location, safe to print: scheme, container or bucket, prefix.
  virtual std::string Describe() const = 0;
  // The size of the parts of large uploads; objects up to this size go in
  // one request.
  virtual size_t PartSize() const = 0;

  // Creates the container or bucket; Ok if it exists. PermissionDenied when
  // the credentials may not create it.
  virtual Status CreateContainer() = 0;

  // Stores `data` under `key` in one request. With `create_only`,
  // AlreadyExists if the key exists, and nothing is overwritten.
  virtual Status Put(const std::string& key, const net::BodySource& data, bool create_only) = 0;
  virtual Result<std::unique_ptr<PartUpload>> StartUpload(const std::string& key) = 0;

  // `length` bytes at `offset`, or the whole object when length is 0;
  // NotFound if there is no such object. A body shorter than asked is
  // retried, then an IOError, never returned.
  virtual Result<Bytes> Get(const std::string& key, uint64_t offset, uint64_t length) = 0;
  // The object's size; NotFound if it does not exist.
  virtual Result<uint64_t> Size(const std::string& key) = 0;
  // Every object whose key starts with `prefix`, page by page.
  virtual Status List(const std::string& prefix, const std::function<void(ObjectInfo)>& each) = 0;
  // Removes `key`; Ok if it did not exist. PermissionDenied when the
  // credentials may not delete (append-only keys).
  virtual Status Delete(const std::string& key) = 0;

  // Uploads in parts that were started under `prefix` and never completed
  // or aborted, and their removal.
  virtual Result<std::vector<UnfinishedUpload>> ListUnfinished(const std::string& prefix) = 0;
  virtual Status AbortUnfinished(const UnfinishedUpload& upload) = 0;

  virtual std::vector<RequestCounts> Counts() const = 0;
};

}  // namespace backspan::object
