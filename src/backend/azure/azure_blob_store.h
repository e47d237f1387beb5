// ObjectStore over the Azure Blob Storage REST API: block blobs written with
// Put Blob, or Put Block and Put Block List for large ones, both with
// If-None-Match: * when create-only; ranged Get Blob; Get Blob Properties;
// List Blobs with markers; Delete Blob; Create Container.
#pragma once

#include <memory>
#include <string>

#include "backend/azure/azure_credentials.h"
#include "backend/object/object_store.h"
#include "backend/object/rest_client.h"

namespace backspan::azure {

struct AzureOptions {
  object::RestOptions rest;
  bool allow_http = false;     // --insecure-http
  size_t part_size = 32 << 20;  // larger blobs go in blocks of this size
};

// The store for container `container` with `credentials`.
Result<std::unique_ptr<object::ObjectStore>> OpenAzureBlobStore(const std::string& container,
                                                                 const std::string& prefix,
                                                                 const AzureCredentials& credentials,
                                                                 const AzureOptions& options);

}  // namespace backspan::azure
