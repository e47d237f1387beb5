// AWS Signature Version 4 for S3 requests (the Authorization header form):
// the canonical request, the string to sign, the signing key derived from
// the secret by date, region and service, and the signature over them.
// Tested against AWS's published test-suite vectors and, in the
// integration tests, against the AWS SDK for JavaScript's own signer.
#pragma once

#include <string>

#include "backend/object/rest_client.h"

namespace backspan::s3 {

struct AwsCredentials {
  std::string access_key_id, secret_access_key, session_token;
};

struct SigV4Parts {
  std::string canonical_request, string_to_sign, signed_headers, signature, authorization;
};

// Signs `request`, whose headers must already include every header to be
// signed (Host among them, and x-amz-date = `amz_date`, YYYYMMDDTHHMMSSZ);
// `payload_hash` is the hex SHA-256 of the body or "UNSIGNED-PAYLOAD".
SigV4Parts SignV4(const object::RestRequest& request, const AwsCredentials& credentials, const std::string& region,
                  const std::string& service, const std::string& amz_date, const std::string& payload_hash);

// The RequestSigner for S3: adds x-amz-date, x-amz-content-sha256 (the
// body's SHA-256), x-amz-security-token, then Authorization.
std::shared_ptr<object::RequestSigner> MakeS3Signer(AwsCredentials credentials, std::string region);

}  // namespace backspan::s3
