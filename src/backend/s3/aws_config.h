// Which credentials, region and endpoint an s3:// location uses, read as
// the AWS CLI and SDKs read them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_SESSION_TOKEN; else the profile (AWS_PROFILE, default "default")
// in ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE) and ~/.aws/config
// (AWS_CONFIG_FILE). Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's
// region, else us-east-1. Endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
// the profile's endpoint_url, else AWS itself.
#pragma once

#include <functional>
#include <string>

#include "backend/s3/sigv4.h"
#include "util/status.h"

namespace backspan::s3 {

struct AwsConfig {
  AwsCredentials credentials;
  std::string region = "us-east-1";
  std::string endpoint;  // empty: AWS, virtual-hosted style; else path style at this URL
  std::string source;    // which variables or files gave the credentials (never values)
};

using GetEnv = std::function<const char*(const char*)>;
// Reads a whole file; NotFound if it does not exist.
using ReadFile = std::function<Result<std::string>(const std::string& path)>;

Result<AwsConfig> AwsConfigFromEnvironment(const GetEnv& getenv, const ReadFile& read_file);

// The KEY = VALUE pairs of section `section` of an AWS INI file.
std::vector<std::pair<std::string, std::string>> IniSection(const std::string& text, const std::string& section);

}  // namespace backspan::s3
