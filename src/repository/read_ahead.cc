#include "repository/read_ahead.h"

namespace backspan {

namespace {

Bytes Slice(const Bytes& data, uint64_t from, uint64_t length) {
  return Bytes(data.begin() + static_cast<ptrdiff_t>(from), data.begin() + static_cast<ptrdiff_t>(from + length));
}

Result<Bytes> Direct(Backend* backend, const std::string& pack, uint64_t offset, uint64_t length, bool tree) {
  return tree ? backend->LoadTreeRange(pack, offset, length) : backend->Load(FileType::kPack, pack, offset, length);
}

}  // namespace

Result<Bytes> ReadAhead::Read(Backend* backend, const std::string& pack, uint64_t offset, uint64_t length,
                              uint64_t data_end, bool tree) {
  if (length >= window_ || offset + length > data_end) return Direct(backend, pack, offset, length, tree);
  std::shared_future<Data> pending;
  uint64_t start = 0;
  std::promise<Data> promise;
  bool fetch = false;
  {
    std::lock_guard lock(mu_);
    for (auto it = windows_.begin(); it != windows_.end(); ++it) {
      if (it->pack == pack && it->start <= offset && offset + length <= it->end) {
        windows_.splice(windows_.begin(), windows_, it);
        pending = it->data;
        start = it->start;
        break;
      }
    }
    if (!pending.valid()) {
      fetch = true;
      start = offset;
      pending = promise.get_future().share();
      windows_.push_front({pack, offset, std::min(data_end, offset + window_), pending});
      if (windows_.size() > capacity_) windows_.pop_back();  // waiters keep their own reference
    }
  }
  if (fetch) {
    const uint64_t end = std::min(data_end, offset + window_);
    auto data = Direct(backend, pack, offset, end - offset, tree);
    promise.set_value(data.ok() ? std::make_shared<const Bytes>(std::move(*data)) : nullptr);
    if (!data.ok()) {
      std::lock_guard lock(mu_);
      windows_.remove_if([&](const Window& w) { return w.pack == pack && w.start == offset; });
      return data.status();
    }
  }
  const Data window = pending.get();
  // A window another reader failed to fetch: read just this range.
  if (!window || offset - start + length > window->size()) return Direct(backend, pack, offset, length, tree);
  return Slice(*window, offset - start, length);
}

}  // namespace backspan
