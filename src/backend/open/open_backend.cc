#include "backend/open/open_backend.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>

#include "backend/azure/azure_blob_store.h"
#include "backend/local/local_backend.h"
#include "backend/object/object_backend.h"
#include "backend/s3/s3_store.h"
#include "util/byte_size.h"
#include "util/time_format.h"

namespace backspan {
namespace {

std::optional<int64_t> ParseCount(const std::string& text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

struct Transport {
  object::RestOptions rest;
  size_t part_size = 32 << 20;
};

Result<Transport> ParseTransport(const BackendOptions& o, bool s3) {
  Transport t;
  t.rest.tls = o.tls;
  t.rest.env = o.env;
  t.rest.span = o.span;
  for (const auto& option : o.extended) {
    const std::string& raw_key = option.first;
    const std::string& value = option.second;
    // restic's spelling ("s3.connections") is accepted beside the plain one.
    std::string key = raw_key;
    for (const char* scheme : {"s3.", "azure."})
      if (key.rfind(scheme, 0) == 0) key = key.substr(std::string(scheme).size());
    auto bad = [&](const char* what) {
      return Status::InvalidArgument("-o " + raw_key + "=" + value + ": " + what);
    };
    if (key == "connections") {
      auto n = ParseCount(value);
      if (!n || *n < 1 || *n > 256) return bad("give a number of connections from 1 to 256");
      t.rest.connections = static_cast<size_t>(*n);
    } else if (key == "timeout") {
      auto ns = ParseDuration(value);
      if (!ns || *ns < 1'000'000) return bad("give a duration such as 30s");
      t.rest.timeout_ms = *ns / 1'000'000;
    } else if (key == "retries") {
      auto n = ParseCount(value);
      if (!n || *n < 0 || *n > 100) return bad("give a number of retries from 0 to 100");
      t.rest.max_attempts = static_cast<int>(*n) + 1;
    } else if (key == "part-size") {
      auto n = ParseByteSize(value);
      const int64_t min = s3 ? 5 << 20 : 64 << 10;
      if (!n || *n < min || *n > (int64_t{1} << 32)) return bad(s3 ? "S3 parts are 5MiB to 4GiB" : "give a size of 64KiB to 4GiB");
      t.part_size = static_cast<size_t>(*n);
    } else {
      return bad("unknown option (known: connections, timeout, retries, part-size)");
    }
  }
  return t;
}

// "container/prefix/more" -> ("container", "prefix/more").
std::pair<std::string, std::string> SplitContainer(const std::string& path) {
  std::string p = path;
  while (!p.empty() && p.back() == '/') p.pop_back();
  const size_t slash = p.find('/');
  if (slash == std::string::npos) return {p, ""};
  return {p.substr(0, slash), p.substr(slash + 1)};
}

std::string TempDir(const BackendOptions& o) {
  const char* t = o.getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

}  // namespace

Result<std::unique_ptr<Backend>> OpenBackend(const Location& location, const BackendOptions& given) {
  BackendOptions o = given;
  if (!o.env) o.env = Env::Default();
  if (!o.getenv) o.getenv = [](const char* name) { return static_cast<const char*>(std::getenv(name)); };
  if (location.scheme == Location::Scheme::kLocal) {
    if (!o.extended.empty())
      return Status::InvalidArgument("-o " + o.extended.front().first + ": options are for azure:// and s3:// locations");
    return std::unique_ptr<Backend>(new LocalBackend(o.env, location.path));
  }
  const auto [container, prefix] = SplitContainer(location.path);
  if (container.empty())
    return Status::InvalidArgument(std::string(location.scheme == Location::Scheme::kAzure ? "azure://" : "s3://") +
                                   " needs a " + (location.scheme == Location::Scheme::kAzure ? "container" : "bucket") +
                                   ": azure://CONTAINER[/PREFIX] or s3://BUCKET[/PREFIX]");
  const bool s3 = location.scheme == Location::Scheme::kS3;
  ASSIGN_OR_RETURN(Transport t, ParseTransport(o, s3));
  std::unique_ptr<object::ObjectStore> store;
  if (s3) {
    auto read_file = [&](const std::string& path) -> Result<std::string> {
      if (!o.env->Exists(path)) return Status::NotFound(path);
      ASSIGN_OR_RETURN(Bytes b, ReadWholeFile(o.env, path));
      return AsString(b);
    };
    ASSIGN_OR_RETURN(s3::AwsConfig config, s3::AwsConfigFromEnvironment(o.getenv, read_file));
    s3::S3Options so;
    so.rest = t.rest;
    so.allow_http = o.allow_http;
    so.part_size = t.part_size;
    ASSIGN_OR_RETURN(store, s3::OpenS3Store(container, prefix, config, so));
  } else {
    ASSIGN_OR_RETURN(azure::AzureCredentials creds, azure::AzureCredentialsFromEnvironment(o.getenv));
    azure::AzureOptions ao;
    ao.rest = t.rest;
    ao.allow_http = o.allow_http;
    ao.part_size = t.part_size;
    ASSIGN_OR_RETURN(store, azure::OpenAzureBlobStore(container, prefix, creds, ao));
  }
  object::ObjectBackendOptions bo;
  bo.spill_dir = TempDir(o);
  // The connections shared between packs uploading at once and their parts.
  bo.parallel_parts = static_cast<int>(std::clamp<size_t>(t.rest.connections / 2, 1, 4));
  bo.parallel_commits = static_cast<int>(std::clamp<size_t>(t.rest.connections / bo.parallel_parts, 1, 8));
  bo.parallel_reads = static_cast<int>(t.rest.connections);
  return std::unique_ptr<Backend>(new object::ObjectBackend(std::move(store), prefix, o.env, bo));
}

}  // namespace backspan
