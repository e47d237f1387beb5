#include "restorer/pack_order_fill.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "restorer/sparse_write.h"
#include "util/interrupt.h"

namespace backspan {
namespace {

// Where one blob goes: a file and an offset in it.
struct Piece {
  BlobLocation loc;
  BlobId id;
  uint32_t file;
  uint64_t file_offset;
};

struct FileState {
  std::atomic<size_t> remaining{0};
  std::atomic<uint64_t> written_end{0};
  uint64_t size = 0;
  std::mutex mu;
  Status error;  // the first failure
};

// A reader's open files, so consecutive blobs of one file share one.
struct Fds {
  std::map<uint32_t, std::unique_ptr<PositionalFile>> open;
  Result<PositionalFile*> Get(const FileToFill& f, uint32_t index) {
    auto it = open.find(index);
    if (it != open.end()) return it->second.get();
    if (open.size() >= kOpenFilesPerReader) open.clear();
    // The first write creates the file (never through a symlink).
    ASSIGN_OR_RETURN(auto file, f.dir->OpenForWrite(f.name, true));
    return (open[index] = std::move(file)).get();
  }
  void Close(uint32_t index) { open.erase(index); }
};

// Spans of neighbouring pieces: blobs less than this apart are read in one
// request rather than two (the gap is read and dropped).
constexpr uint64_t kMaxGap = 1 << 20;

class Filler {
 public:
  Filler(Repository* repo, const std::vector<FileToFill>& files, uint64_t max_span, const FillCallbacks& cb)
      : repo_(repo), files_(files), max_span_(max_span), cb_(cb), state_(files.size()) {}

  void Run(unsigned threads) {
    Plan();
    std::vector<std::thread> workers;
    for (unsigned i = 1; i < std::max(1u, threads); ++i) workers.emplace_back([this] { Work(); });
    Work();
    for (auto& t : workers) t.join();
    // What an interrupt left unfinished is reported as such.
    for (size_t f = 0; f < files_.size(); ++f)
      if (state_[f].remaining.load() > 0) Fail(f, InterruptedStatus("the restore"), true);
  }

 private:
  void Plan() {
    for (size_t f = 0; f < files_.size(); ++f) {
      FileState& st = state_[f];
      std::vector<Piece> pieces;
      Status missing;
      uint64_t offset = 0;
      for (const BlobId& id : files_[f].content) {
        auto loc = repo_->index().Lookup(id);
        if (!loc) {
          missing = Status::NotFound("blob " + id.ShortHex() + " is not in the index");
          break;
        }
        pieces.push_back({*loc, id, static_cast<uint32_t>(f), offset});
        offset += loc->entry.raw_length;
      }
      st.size = offset;
      if (!missing.ok() || pieces.empty()) {
        cb_.on_done(f, missing, offset, 0);
        continue;
      }
      st.remaining = pieces.size();
      for (auto& p : pieces) by_pack_[p.loc.pack].push_back(std::move(p));
    }
    for (auto& [pack, pieces] : by_pack_) {
      std::sort(pieces.begin(), pieces.end(),
                [](const Piece& a, const Piece& b) { return a.loc.entry.offset < b.loc.entry.offset; });
      packs_.push_back(&pieces);
    }
  }

  void Work() {
    Fds fds;
    for (size_t i; !InterruptRequested() && (i = next_++) < packs_.size();) {
      const std::vector<Piece>& pieces = *packs_[i];
      for (size_t a = 0; a < pieces.size() && !InterruptRequested();) {
        // [a, b): pieces read with one request.
        const uint64_t start = pieces[a].loc.entry.offset;
        uint64_t end = start + pieces[a].loc.entry.length;
        size_t b = a + 1;
        while (b < pieces.size()) {
          const uint64_t off = pieces[b].loc.entry.offset, next_end = off + pieces[b].loc.entry.length;
          if (off > end + kMaxGap || std::max(end, next_end) - start > max_span_) break;
          end = std::max(end, next_end);
          ++b;
        }
        ReadSpan(pieces, a, b, start, end, &fds);
        a = b;
      }
    }
    fds.open.clear();
  }

  void ReadSpan(const std::vector<Piece>& pieces, size_t a, size_t b, uint64_t start, uint64_t end, Fds* fds);

  // Records a failure of `file`, and reports it once all its pieces are accounted for.
  void Fail(size_t file, const Status& why, bool all_remaining) {
    FileState& st = state_[file];
    {
      std::lock_guard lock(st.mu);
      if (st.error.ok()) st.error = why;
    }
    if (all_remaining) {
      if (st.remaining.exchange(0) > 0) Done(file);
    } else if (--st.remaining == 0) {
      Done(file);
    }
  }

  void Done(size_t file) {
    FileState& st = state_[file];
    Status error;
    {
      std::lock_guard lock(st.mu);
      error = st.error;
    }
    cb_.on_done(file, error, st.size, st.written_end.load());
  }

 private:
  Repository* repo_;
  const std::vector<FileToFill>& files_;
  const uint64_t max_span_;
  const FillCallbacks& cb_;
  std::vector<FileState> state_;
  std::map<PackId, std::vector<Piece>> by_pack_;
  std::vector<const std::vector<Piece>*> packs_;
  std::atomic<size_t> next_{0};
};

void Filler::ReadSpan(const std::vector<Piece>& pieces, size_t a, size_t b, uint64_t start, uint64_t end, Fds* fds) {
  const std::string pack = pieces[a].loc.pack.Hex();
  auto data = repo_->backend()->Load(FileType::kPack, pack, start, end - start);
  const BlobId* last_id = nullptr;
  Result<Bytes> plain = Status::Internal("unset");
  for (size_t i = a; i < b; ++i) {
    const Piece& p = pieces[i];
    if (!data.ok()) {
      Fail(p.file, data.status().WithContext("blob " + p.id.ShortHex() + " in pack " + p.loc.pack.ShortHex()), false);
      continue;
    }
    // One blob needed in several places is opened once.
    if (!last_id || *last_id != p.id) {
      const PackEntry& e = p.loc.entry;
      plain = repo_->OpenBlob(p.id, p.loc, ByteView(data->data() + (e.offset - start), e.length));
      last_id = &p.id;
    }
    if (!plain.ok()) {
      Fail(p.file, plain.status(), false);
      continue;
    }
    const FileToFill& f = files_[p.file];
    FileState& st = state_[p.file];
    auto file = fds->Get(f, p.file);
    uint64_t written_end = 0;
    Status w = file.ok() ? WriteSparse(*file, p.file_offset, *plain, &written_end) : file.status();
    if (!w.ok()) {
      Fail(p.file, w, false);
      continue;
    }
    for (uint64_t cur = st.written_end.load(); written_end > cur && !st.written_end.compare_exchange_weak(cur, written_end);) {
    }
    cb_.on_bytes(plain->size());
    if (--st.remaining == 0) {
      fds->Close(p.file);
      Done(p.file);
    }
  }
}

}  // namespace

void FillByPack(Repository* repo, const std::vector<FileToFill>& files, unsigned threads, uint64_t max_span,
                const FillCallbacks& callbacks) {
  Filler(repo, files, max_span, callbacks).Run(threads);
}

}  // namespace backspan
