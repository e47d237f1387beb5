#include "trace/export/spool.h"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "env/env.h"
#include "trace/export/otlp_encoding.h"

namespace backspan::trace {
namespace {

constexpr char kDroppedFile[] = "dropped";

bool IsEntryName(const std::string& name) {
  return name.size() > 22 && name[20] == '-' && std::all_of(name.begin(), name.begin() + 20, ::isdigit) &&
         name.find(".tmp-") == std::string::npos;
}

}  // namespace

Spool::Spool(Env* env, std::string dir, int64_t limit_bytes) : env_(env), dir_(std::move(dir)), limit_(limit_bytes) {
  (void)CreateDirs(env_, dir_);
}

Status Spool::Append(std::string_view kind, ByteView body) {
  if (int64_t(body.size()) > limit_)
    return Status::InvalidArgument("a spool entry of " + std::to_string(body.size()) + " bytes is over the spool's limit");
  std::lock_guard<std::mutex> lock(mu_);
  if (Status s = CreateDirs(env_, dir_); !s.ok()) return s;
  if (Status s = DropOldest(int64_t(body.size())); !s.ok()) return s;
  char name[96];
  std::snprintf(name, sizeof name, "%020" PRId64 "-%08d-%06u.", env_->NowUnixNanos(), int(getpid()), seq_++ % 1000000);
  return WriteFileAtomic(env_, dir_ + "/" + name + std::string(kind), body);
}

Status Spool::DropOldest(int64_t incoming) {
  ASSIGN_OR_RETURN(auto entries, List());
  int64_t total = incoming;
  for (const auto& e : entries) total += e.bytes;
  int64_t dropped = 0;
  for (const auto& e : entries) {
    if (total <= limit_) break;
    if (env_->Remove(dir_ + "/" + e.name).ok()) ++dropped;
    total -= e.bytes;
  }
  if (!dropped) return Status::Ok();
  const std::string count = std::to_string(this->dropped() + dropped);
  return WriteFileAtomic(env_, dir_ + "/" + kDroppedFile, AsBytes(count));
}

Result<std::vector<Spool::Entry>> Spool::List() const {
  ASSIGN_OR_RETURN(auto names, env_->ReadDir(dir_));
  std::vector<Entry> out;
  for (const auto& d : names) {
    if (!IsEntryName(d.name)) continue;
    auto info = env_->Lstat(dir_ + "/" + d.name);
    if (!info.ok()) continue;  // delivered and removed meanwhile
    const size_t dot = d.name.rfind('.');
    out.push_back({d.name, d.name.substr(dot + 1), int64_t(info->size)});
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

Result<Bytes> Spool::Read(const Entry& entry) const { return ReadWholeFile(env_, dir_ + "/" + entry.name); }

Status Spool::Remove(const Entry& entry) { return env_->Remove(dir_ + "/" + entry.name); }

int64_t Spool::dropped() const {
  auto text = ReadWholeFile(env_, dir_ + "/" + kDroppedFile);
  if (!text.ok()) return 0;
  return std::strtoll(std::string(AsText(*text)).c_str(), nullptr, 10);
}

Status SpoolExporter::Export(const Resource& resource, const std::vector<SpanData>& spans, int64_t) noexcept {
  if (spans.empty()) return Status::Ok();
  const std::string body = EncodeOtlpProtobuf(resource, scope_version_, spans);
  return spool_->Append(kSpoolTraces, AsBytes(body));
}

}  // namespace backspan::trace
