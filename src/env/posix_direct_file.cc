#include "env/posix_direct_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "util/bounded_queue.h"

namespace backspan {
namespace {

// O_DIRECT needs buffers, offsets and lengths aligned to the device's
// logical block size; 4 KiB covers 512-byte and 4 KiB devices.
constexpr size_t kAlign = 4096;
constexpr size_t kBufferSize = size_t{1} << 20;
// Buffers per file: one being filled while the others are written.
constexpr size_t kMaxBuffers = 2;

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t, FreeDeleter>;

// Buffers are recycled process-wide: a backup opens a new file every 16 MiB,
// and fresh aligned allocations would fragment the heap.
class BufferPool {
 public:
  static BufferPool& Get() {
    static BufferPool* pool = new BufferPool();
    return *pool;
  }
  Result<Buffer> Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        Buffer b = std::move(free_.back());
        free_.pop_back();
        return b;
      }
    }
    void* mem = nullptr;
    if (::posix_memalign(&mem, kAlign, kBufferSize) != 0) return Status::Internal("out of memory");
    return Buffer(static_cast<uint8_t*>(mem));
  }
  void Release(Buffer b) {
    if (!b) return;
    std::lock_guard lock(mu_);
    if (free_.size() < kMaxRetained) free_.push_back(std::move(b));
  }

 private:
  static constexpr size_t kMaxRetained = 32;
  std::mutex mu_;
  std::vector<Buffer> free_;
};

// Direct writes block until the device has the data, so full buffers go out
// on a writer thread of the file's own while the caller fills the next one.
class PosixDirectFile final : public WritableFile {
 public:
  PosixDirectFile(int fd, std::string path, bool direct)
      : fd_(fd), path_(std::move(path)), direct_(direct) {}
  ~PosixDirectFile() override {
    StopWriter();
    ReleaseBuffers();
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(ByteView data) override {
    while (!data.empty()) {
      if (!buf_) {
        ASSIGN_OR_RETURN(buf_, BufferPool::Get().Acquire());
        in_use_ = 1;
      }
      size_t n = std::min(data.size(), kBufferSize - used_);
      std::memcpy(buf_.get() + used_, data.data(), n);
      used_ += n;
      data = data.subspan(n);
      if (used_ == kBufferSize) RETURN_IF_ERROR(HandOff());
    }
    return Status::Ok();
  }

  Status Sync() override {
    RETURN_IF_ERROR(WriteOut());
    if (::fdatasync(fd_) != 0) return Status::FromErrno(errno, "fsync " + path_);
    return Status::Ok();
  }

  Status Close() override {
    Status st = WriteOut();
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0 && st.ok()) st = Status::FromErrno(errno, "close " + path_);
    return st;
  }

 private:
  // Queues the full buffer for the writer and takes an empty one.
  Status HandOff() {
    RETURN_IF_ERROR(WriterError());
    if (writer_stopped_) {  // appending after Sync: write synchronously
      RETURN_IF_ERROR(WriteBuffer(buf_.get(), kBufferSize).status());
      used_ = 0;
      return Status::Ok();
    }
    if (!writer_.joinable()) writer_ = std::thread([this] { WriterLoop(); });
    full_.Push(std::move(buf_));
    used_ = 0;
    if (auto spare = empty_.TryPop()) {
      buf_ = std::move(*spare);
    } else if (in_use_ < kMaxBuffers) {
      ASSIGN_OR_RETURN(buf_, BufferPool::Get().Acquire());
      ++in_use_;
    } else {
      buf_ = std::move(*empty_.Pop());
    }
    return Status::Ok();
  }

  void ReleaseBuffers() {
    BufferPool::Get().Release(std::move(buf_));
    while (auto b = empty_.TryPop()) BufferPool::Get().Release(std::move(*b));
    in_use_ = 0;
  }

  void WriterLoop() {
    while (auto buf = full_.Pop()) {
      Result<size_t> r = WriteBuffer(buf->get(), kBufferSize);
      if (!r.ok()) {
        std::lock_guard lock(error_mu_);
        if (error_.ok()) error_ = r.status();
      }
      empty_.Push(std::move(*buf));
    }
  }

  void StopWriter() {
    if (writer_stopped_) return;
    writer_stopped_ = true;
    full_.Close();
    if (writer_.joinable()) writer_.join();
  }

  Status WriterError() {
    std::lock_guard lock(error_mu_);
    return error_;
  }

  // Waits for queued buffers, then writes what is left in this one: the
  // aligned part directly, the tail through the page cache.
  Status WriteOut() {
    StopWriter();
    RETURN_IF_ERROR(WriterError());
    size_t aligned = used_ / kAlign * kAlign;
    if (aligned > 0) RETURN_IF_ERROR(WriteBuffer(buf_.get(), aligned).status());
    if (aligned < used_) {
      RETURN_IF_ERROR(DisableDirect());
      RETURN_IF_ERROR(WriteBuffer(buf_.get() + aligned, used_ - aligned).status());
    }
    used_ = 0;
    ReleaseBuffers();
    return Status::Ok();
  }

  Status DisableDirect() {
    if (!direct_) return Status::Ok();
    int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0)
      return Status::FromErrno(errno, "fcntl " + path_);
    direct_ = false;
    return Status::Ok();
  }

  // Writes `n` bytes at the file's offset; returns n.
  Result<size_t> WriteBuffer(const uint8_t* p, size_t n) {
    size_t done = 0;
    while (done < n) {
      ssize_t w = ::write(fd_, p + done, n - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        // A filesystem may accept O_DIRECT at open and refuse the write.
        if (errno == EINVAL && direct_) {
          RETURN_IF_ERROR(DisableDirect());
          continue;
        }
        return Status::FromErrno(errno, "write " + path_);
      }
      done += static_cast<size_t>(w);
      // A short direct write may leave the offset unaligned.
      if (direct_ && done % kAlign != 0) RETURN_IF_ERROR(DisableDirect());
    }
    return n;
  }

  int fd_;
  std::string path_;
  bool direct_;  // touched by the writer thread until it stops
  Buffer buf_;
  size_t used_ = 0;
  size_t in_use_ = 0;  // buffers taken from the pool, buf_ included
  BoundedQueue<Buffer> full_{kMaxBuffers};
  BoundedQueue<Buffer> empty_{kMaxBuffers};
  std::thread writer_;
  bool writer_stopped_ = false;
  std::mutex error_mu_;
  Status error_;
};

}  // namespace

Result<std::unique_ptr<WritableFile>> NewPosixDirectFile(const std::string& path) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  bool direct = true;
  int fd = ::open(path.c_str(), kFlags | O_DIRECT, 0600);
  if (fd < 0 && errno == EINVAL) {
    direct = false;
    fd = ::open(path.c_str(), kFlags, 0600);
  }
  if (fd < 0) return Status::FromErrno(errno, "create " + path);
  return std::unique_ptr<WritableFile>(new PosixDirectFile(fd, path, direct));
}

}  // namespace backspan
