#include "backend/s3/aws_config.h"

#include <vector>

namespace backspan::s3 {
namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::string Find(const std::vector<std::pair<std::string, std::string>>& kv, const char* key) {
  for (const auto& [k, v] : kv)
    if (k == key) return v;
  return "";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> IniSection(const std::string& text, const std::string& section) {
  std::vector<std::pair<std::string, std::string>> out;
  bool in = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      in = line.back() == ']' && Trim(line.substr(1, line.size() - 2)) == section;
      continue;
    }
    const size_t eq = line.find('=');
    if (in && eq != std::string::npos) out.emplace_back(Trim(line.substr(0, eq)), Trim(line.substr(eq + 1)));
  }
  return out;
}

Result<AwsConfig> AwsConfigFromEnvironment(const GetEnv& getenv, const ReadFile& read_file) {
  auto var = [&](const char* name) {
    const char* v = getenv(name);
    return v ? std::string(v) : std::string();
  };
  const std::string home = var("HOME");
  const std::string profile = var("AWS_PROFILE").empty() ? "default" : var("AWS_PROFILE");
  auto load = [&](const char* variable, const std::string& fallback) -> Result<std::string> {
    const std::string path = var(variable).empty() ? fallback : var(variable);
    auto text = read_file(path);
    if (!text.ok() && text.status().code() == ErrorCode::kNotFound) return std::string();
    return text;
  };
  ASSIGN_OR_RETURN(std::string credentials_file, load("AWS_SHARED_CREDENTIALS_FILE", home + "/.aws/credentials"));
  ASSIGN_OR_RETURN(std::string config_file, load("AWS_CONFIG_FILE", home + "/.aws/config"));
  const auto creds_section = IniSection(credentials_file, profile);
  const auto config_section = IniSection(config_file, profile == "default" ? "default" : "profile " + profile);

  AwsConfig c;
  if (!var("AWS_ACCESS_KEY_ID").empty()) {
    c.credentials = {var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"), var("AWS_SESSION_TOKEN")};
    c.source = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
    if (c.credentials.secret_access_key.empty())
      return Status::InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  } else {
    // The credentials file first, then keys written into the config file.
    for (const auto* section : {&creds_section, &config_section}) {
      if (Find(*section, "aws_access_key_id").empty()) continue;
      c.credentials = {Find(*section, "aws_access_key_id"), Find(*section, "aws_secret_access_key"),
                       Find(*section, "aws_session_token")};
      c.source = "profile '" + profile + "'";
      break;
    }
    if (c.credentials.access_key_id.empty())
      return Status::InvalidArgument("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "
                                     "naming a profile in ~/.aws/credentials (profile '" + profile + "' has none)");
    if (c.credentials.secret_access_key.empty())
      return Status::InvalidArgument("profile '" + profile + "' has aws_access_key_id but no aws_secret_access_key");
  }
  for (const std::string& r : {var("AWS_REGION"), var("AWS_DEFAULT_REGION"), Find(config_section, "region")})
    if (!r.empty()) {
      c.region = r;
      break;
    }
  for (const std::string& e : {var("AWS_ENDPOINT_URL_S3"), var("AWS_ENDPOINT_URL"), Find(config_section, "endpoint_url")})
    if (!e.empty()) {
      c.endpoint = e;
      break;
    }
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  return c;
}

}  // namespace backspan::s3
