#include "repository/deletion_mark.h"

#include "util/encoding.h"

namespace backspan {

namespace {
constexpr uint8_t kVersion = 1;
}

Bytes EncodeDeletionMark(const DeletionMark& mark) {
  Encoder enc;
  enc.PutU8(kVersion);
  enc.PutSignedVarint(mark.time_ns);
  enc.PutVarint(mark.jobs.size());
  for (const auto& j : mark.jobs) enc.PutString(j);
  enc.PutBytes(EncodeIndexFile(mark.packs));
  enc.PutBytes(EncodeIndexFile(mark.strays));
  return enc.Take();
}

Result<DeletionMark> DecodeDeletionMark(ByteView plaintext) {
  Decoder dec(plaintext);
  DeletionMark mark;
  uint8_t version = 0;
  uint64_t jobs = 0;
  RETURN_IF_ERROR(dec.GetU8(&version));
  if (version != kVersion) return Status::Corruption("unknown deletion mark version");
  RETURN_IF_ERROR(dec.GetSignedVarint(&mark.time_ns));
  RETURN_IF_ERROR(dec.GetVarint(&jobs));
  if (jobs > plaintext.size()) return Status::Corruption("deletion mark job count is implausible");
  mark.jobs.resize(jobs);
  for (auto& j : mark.jobs) RETURN_IF_ERROR(dec.GetString(&j));
  ByteView packs;
  RETURN_IF_ERROR(dec.GetBytes(&packs));
  ASSIGN_OR_RETURN(mark.packs, DecodeIndexFile(packs));
  ByteView strays;
  RETURN_IF_ERROR(dec.GetBytes(&strays));
  ASSIGN_OR_RETURN(mark.strays, DecodeIndexFile(strays));
  return mark;
}

}  // namespace backspan
