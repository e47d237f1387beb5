// ObjectStore over the S3 REST API: PutObject, or a multipart upload for
// large objects (aborted on failure), both with If-None-Match: * when
// create-only; ranged GetObject; HeadObject; ListObjectsV2 with
// continuation tokens; DeleteObject; CreateBucket; ListMultipartUploads and
// AbortMultipartUpload for what interrupted writers left. Virtual-hosted
// addressing on AWS, path style on any other endpoint.
#pragma once

#include <memory>
#include <string>

#include "backend/object/object_store.h"
#include "backend/object/rest_client.h"
#include "backend/s3/aws_config.h"

namespace backspan::s3 {

struct S3Options {
  object::RestOptions rest;
  bool allow_http = false;     // --insecure-http
  size_t part_size = 32 << 20;  // larger objects go in parts of this size (S3: at least 5 MiB)
};

Result<std::unique_ptr<object::ObjectStore>> OpenS3Store(const std::string& bucket, const std::string& prefix,
                                                         const AwsConfig& config, const S3Options& options);

}  // namespace backspan::s3
