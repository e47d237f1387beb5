#include "repository/pack.h"

#include "repository/object_aad.h"
#include "util/encoding.h"

namespace backspan {

namespace {
constexpr uint8_t kPackHeaderVersion = 1;
constexpr uint8_t kFlagCompressed = 1;
}  // namespace

struct PackWriter::HashState {
  crypto::Sha256Stream sha;
};

PackWriter::PackWriter(std::unique_ptr<PendingFile> out)
    : out_(std::move(out)), hash_(std::make_unique<HashState>()) {}

PackWriter::~PackWriter() = default;

Status PackWriter::Write(ByteView data) {
  hash_->sha.Update(data);
  size_ += data.size();
  return out_->Append(data);
}

Status PackWriter::Add(const MasterKey& key, BlobType type, const BlobId& id, bool compressed,
                       uint32_t raw_length, ByteView payload) {
  thread_local Bytes sealed;
  sealed.clear();
  crypto::SealAppend(key.encryption, payload, aad::Blob(type, id), &sealed);
  uint64_t offset = size_;
  if (offset + sealed.size() > UINT32_MAX) return Status::Internal("pack grew beyond 4 GiB");
  RETURN_IF_ERROR(Write(sealed));
  entries_.push_back({type, compressed, id, static_cast<uint32_t>(offset),
                      static_cast<uint32_t>(sealed.size()), raw_length});
  return Status::Ok();
}

Bytes EncodePackHeader(const std::vector<PackEntry>& entries) {
  Encoder enc;
  enc.PutU8(kPackHeaderVersion);
  enc.PutVarint(entries.size());
  for (const auto& e : entries) {
    enc.PutU8(static_cast<uint8_t>(e.type));
    enc.PutU8(e.compressed ? kFlagCompressed : 0);
    enc.PutVarint(e.length);
    enc.PutVarint(e.raw_length);
    enc.PutRaw(e.id.bytes);
  }
  return enc.Take();
}

Result<PackId> PackWriter::Finish(const MasterKey& key) {
  Bytes tail = crypto::Seal(key.encryption, EncodePackHeader(entries_), aad::Of(aad::kPackHeader));
  uint8_t len[4];
  EncodeFixed32(len, static_cast<uint32_t>(tail.size()));
  tail.insert(tail.end(), len, len + 4);
  RETURN_IF_ERROR(Write(tail));
  PackId id;
  id.bytes = hash_->sha.Final();
  return id;
}

namespace {

// Decodes a sealed header that starts at `header_start` of its pack.
Result<std::vector<PackEntry>> DecodeHeader(ByteView sealed, uint64_t header_start, const MasterKey& key) {
  const size_t header_len = sealed.size();
  ASSIGN_OR_RETURN(Bytes header, crypto::Open(key.encryption, sealed, aad::Of(aad::kPackHeader)));
  Decoder dec(header);
  uint8_t version = 0;
  uint64_t count = 0;
  RETURN_IF_ERROR(dec.GetU8(&version));
  if (version != kPackHeaderVersion) return Status::Corruption("unknown pack header version");
  RETURN_IF_ERROR(dec.GetVarint(&count));
  if (count > header_len) return Status::Corruption("pack header entry count is implausible");
  std::vector<PackEntry> entries(count);
  uint64_t offset = 0;
  for (auto& e : entries) {
    uint8_t type = 0, flags = 0;
    uint64_t length = 0, raw_length = 0;
    ByteView id;
    RETURN_IF_ERROR(dec.GetU8(&type));
    RETURN_IF_ERROR(dec.GetU8(&flags));
    RETURN_IF_ERROR(dec.GetVarint(&length));
    RETURN_IF_ERROR(dec.GetVarint(&raw_length));
    RETURN_IF_ERROR(dec.GetRaw(32, &id));
    if (type > 1) return Status::Corruption("pack header has an unknown blob type");
    // offset <= header_start holds here; compared this way a huge length
    // cannot wrap around.
    if (length > header_start - offset) return Status::Corruption("pack header entry lies outside the pack");
    if (raw_length > UINT32_MAX) return Status::Corruption("pack header entry has an implausible length");
    e.type = static_cast<BlobType>(type);
    e.compressed = flags & kFlagCompressed;
    e.offset = static_cast<uint32_t>(offset);
    e.length = static_cast<uint32_t>(length);
    e.raw_length = static_cast<uint32_t>(raw_length);
    std::copy(id.begin(), id.end(), e.id.bytes.begin());
    offset += length;
  }
  return entries;
}

}  // namespace

Result<std::vector<PackEntry>> ReadPackHeader(ByteView pack, const MasterKey& key) {
  if (pack.size() < 4 + crypto::kSealOverhead) return Status::Corruption("pack is too short");
  uint32_t header_len = DecodeFixed32(pack.data() + pack.size() - 4);
  if (header_len > pack.size() - 4) return Status::Corruption("pack header length is out of range");
  size_t header_start = pack.size() - 4 - header_len;
  return DecodeHeader(pack.subspan(header_start, header_len), header_start, key);
}

Result<std::vector<PackEntry>> LoadPackHeader(Backend* backend, const std::string& name, const MasterKey& key) {
  ASSIGN_OR_RETURN(uint64_t size, backend->Size(FileType::kPack, name));
  if (size < 4 + crypto::kSealOverhead) return Status::Corruption("pack is too short");
  ASSIGN_OR_RETURN(Bytes tail, backend->Load(FileType::kPack, name, size - 4, 4));
  const uint32_t header_len = DecodeFixed32(tail.data());
  if (header_len > size - 4 || header_len < crypto::kSealOverhead)
    return Status::Corruption("pack header length is out of range");
  const uint64_t header_start = size - 4 - header_len;
  ASSIGN_OR_RETURN(Bytes sealed, backend->Load(FileType::kPack, name, header_start, header_len));
  return DecodeHeader(sealed, header_start, key);
}

}  // namespace backspan
