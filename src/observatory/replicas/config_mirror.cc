#include "observatory/replicas/config_mirror.h"

#include <chrono>
#include <cstdio>

namespace backspan::observatory {

Result<std::string> ConfigMirror::ReadFile() {
  auto data = ReadWholeFile(env_, path_);
  if (!data.ok()) return data.status().WithContext("reading " + path_);
  return std::string(data->begin(), data->end());
}

Result<int64_t> ConfigMirror::MtimeNs() {
  auto st = env_->Lstat(path_);
  if (!st.ok()) return st.status().WithContext(path_);
  return st->mtime_ns;
}

Result<bool> ConfigMirror::WriteFile(const std::string& text) {
  auto current = ReadFile();
  const bool differs = !current.ok() || *current != text;
  if (differs)
    RETURN_IF_ERROR(WriteFileAtomic(env_, path_, ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()))
                        .WithContext("writing " + path_));
  auto mtime = MtimeNs();
  if (!mtime.ok()) return mtime.status();
  seen_mtime_ns_ = *mtime;
  return differs;
}

Result<std::string> ConfigMirror::Start() {
  auto doc = docs_->Get(name_);
  if (!doc.ok()) return doc.status().WithContext("reading the shared " + name_);
  if (!doc->has_value()) {
    auto text = ReadFile();
    if (!text.ok()) return text.status();
    auto mtime = MtimeNs();
    if (!mtime.ok()) return mtime.status();
    auto version = docs_->Put(name_, *text);
    if (!version.ok()) return version.status().WithContext("sharing " + path_);
    seen_version_ = *version;
    seen_mtime_ns_ = *mtime;
    return std::string();
  }
  auto replaced = WriteFile((*doc)->body);
  if (!replaced.ok()) return replaced.status();
  seen_version_ = (*doc)->version;
  if (!*replaced) return std::string();
  return path_ + " differed from the " + name_ + " the replicas share (version " + std::to_string(seen_version_) +
         "), which replaced it; to change it, edit the file while serving or use the API";
}

Result<bool> ConfigMirror::Poll() {
  auto doc = docs_->Get(name_);
  if (!doc.ok()) return doc.status();
  if (doc->has_value() && (*doc)->version != seen_version_) {
    // Another replica shared a newer one: it wins over a local edit made meanwhile.
    auto replaced = WriteFile((*doc)->body);
    if (!replaced.ok()) return replaced.status();
    seen_version_ = (*doc)->version;
    return *replaced;
  }
  auto mtime = MtimeNs();
  if (!mtime.ok()) return mtime.status();
  if (*mtime == seen_mtime_ns_) return false;
  seen_mtime_ns_ = *mtime;
  auto text = ReadFile();
  if (!text.ok()) return text.status();
  if (Status valid = validate_(*text); !valid.ok())
    return valid.WithContext(path_ + " was edited but is not shared with the other replicas");
  auto version = docs_->Put(name_, *text);
  if (!version.ok()) {
    seen_mtime_ns_ = -1;  // shared at the next poll
    return version.status();
  }
  seen_version_ = *version;
  return false;
}

ConfigMirrorLoop::ConfigMirrorLoop(std::vector<Entry> entries)
    : entries_(std::move(entries)), last_error_(entries_.size()), thread_(std::chrono::seconds(1), [this] { PollAll(); }) {}

void ConfigMirrorLoop::PollAll() {
  for (size_t i = 0; i < entries_.size(); ++i) {
    auto polled = entries_[i].mirror->Poll();
    const std::string error = polled.ok() ? "" : polled.status().message();
    if (!error.empty() && error != last_error_[i]) std::fprintf(stderr, "warning: %s\n", error.c_str());
    last_error_[i] = error;
    if (polled.ok() && *polled && entries_[i].on_replaced) entries_[i].on_replaced();
  }
}

}  // namespace backspan::observatory
