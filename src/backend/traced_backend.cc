#include "backend/forwarding_backend.h"
#include "backend/traced_backend.h"

#include "env/env.h"
#include "trace/semconv.h"

namespace backspan {
namespace {

class Timer {
 public:
  Timer(const trace::Span* span, Env* env, int64_t slow_ns, const char* op, FileType type, uint64_t bytes = 0)
      : span_(span), env_(env), slow_ns_(slow_ns), op_(op), type_(type), bytes_(bytes),
        start_(env->MonotonicNanos()) {}
  ~Timer() {
    int64_t took = env_->MonotonicNanos() - start_;
    if (took < slow_ns_) return;
    span_->AddEvent(
        semconv::kStorageSlowRequestEvent,
        {{semconv::kStorageOperation, std::string(op_)},
         {semconv::kStorageFileType, std::string(FileTypeDir(type_))},
         {semconv::kStorageBytes, static_cast<int64_t>(bytes_)},
         {semconv::kStorageDurationMs, static_cast<double>(took) / 1e6}});
  }
  void set_bytes(uint64_t b) { bytes_ = b; }

 private:
  const trace::Span* span_;
  Env* env_;
  int64_t slow_ns_;
  const char* op_;
  FileType type_;
  uint64_t bytes_;
  int64_t start_;
};

class TracedPendingFile final : public PendingFile {
 public:
  TracedPendingFile(std::unique_ptr<PendingFile> inner, const trace::Span* span, Env* env, int64_t slow_ns,
                    FileType type)
      : inner_(std::move(inner)), span_(span), env_(env), slow_ns_(slow_ns), type_(type) {}
  Status Append(ByteView data) override {
    bytes_ += data.size();
    return inner_->Append(data);
  }
  Status Commit(const std::string& name) override {
    Timer t(span_, env_, slow_ns_, "commit", type_, bytes_);
    return inner_->Commit(name);
  }

 private:
  std::unique_ptr<PendingFile> inner_;
  const trace::Span* span_;
  Env* env_;
  int64_t slow_ns_;
  FileType type_;
  uint64_t bytes_ = 0;
};

class TracedBackend final : public ForwardingBackend {
 public:
  TracedBackend(std::unique_ptr<Backend> base, const trace::Span* span, Env* env, int64_t slow_ns)
      : ForwardingBackend(std::move(base)), span_(span), env_(env), slow_ns_(slow_ns) {}

  Status Save(FileType type, const std::string& name, ByteView data) override {
    Timer t(span_, env_, slow_ns_, "save", type, data.size());
    return inner()->Save(type, name, data);
  }
  Result<std::unique_ptr<PendingFile>> Begin(FileType type) override {
    ASSIGN_OR_RETURN(auto file, inner()->Begin(type));
    return std::unique_ptr<PendingFile>(new TracedPendingFile(std::move(file), span_, env_, slow_ns_, type));
  }
  Result<Bytes> Load(FileType type, const std::string& name, uint64_t offset, uint64_t length) override {
    Timer t(span_, env_, slow_ns_, "load", type, length);
    return inner()->Load(type, name, offset, length);
  }
  Result<Bytes> LoadTreeRange(const std::string& pack, uint64_t offset, uint64_t length) override {
    Timer t(span_, env_, slow_ns_, "load", FileType::kPack, length);
    return inner()->LoadTreeRange(pack, offset, length);
  }
  Result<std::vector<std::string>> List(FileType type) override {
    Timer t(span_, env_, slow_ns_, "list", type);
    return inner()->List(type);
  }
  Status Remove(FileType type, const std::string& name) override {
    Timer t(span_, env_, slow_ns_, "remove", type);
    return inner()->Remove(type, name);
  }
  Result<std::vector<std::pair<std::string, uint64_t>>> ListSizes(FileType type) override {
    return inner()->ListSizes(type);
  }

 private:
  const trace::Span* span_;
  Env* env_;
  int64_t slow_ns_;
};

}  // namespace

std::unique_ptr<Backend> NewTracedBackend(std::unique_ptr<Backend> inner, const trace::Span* span, Env* env,
                                          int64_t slow_ns) {
  if (!span || !span->recording()) return inner;
  return std::make_unique<TracedBackend>(std::move(inner), span, env, slow_ns);
}

}  // namespace backspan
