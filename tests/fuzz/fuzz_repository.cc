// The repository's own formats, since a repository on shared storage is
// outside input too, chosen by BACKSPAN_FUZZ_REPOSITORY: the plaintext of
// the config, key files, pack headers (sealed here, with the fuzzer's own
// key, so the decoder behind the seal is reached), index files, trees,
// snapshots, locks and deletion marks.
#include "crypto/crypto.h"
#include "fuzz.h"
#include "repository/config.h"
#include "repository/deletion_mark.h"
#include "repository/index.h"
#include "repository/key_file.h"
#include "repository/lock.h"
#include "repository/object_aad.h"
#include "repository/pack.h"
#include "repository/snapshot.h"
#include "repository/tree.h"
#include "util/encoding.h"

using namespace backspan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView in(data, size);
  [[maybe_unused]] static const MasterKey key{crypto::RandomKey(), crypto::RandomKey()};
#if BACKSPAN_FUZZ_REPOSITORY == 0
  (void)DecodeConfig(crypto::Seal(key.encryption, in, aad::Of(aad::kConfig)), key);
#elif BACKSPAN_FUZZ_REPOSITORY == 1
  (void)ParseKeyFile(in);
#elif BACKSPAN_FUZZ_REPOSITORY == 2
  // A pack: some blob bytes, then the input as its sealed header, then its length.
  Bytes pack(size % 257, 0x5a);
  const Bytes header = crypto::Seal(key.encryption, in, aad::Of(aad::kPackHeader));
  pack.insert(pack.end(), header.begin(), header.end());
  uint8_t len[4];
  EncodeFixed32(len, static_cast<uint32_t>(header.size()));
  pack.insert(pack.end(), len, len + 4);
  auto entries = ReadPackHeader(pack, key);
  if (entries.ok())
    for (const auto& e : *entries) BACKSPAN_FUZZ_CHECK(uint64_t{e.offset} + e.length <= pack.size());
  (void)ReadPackHeader(in, key);
#elif BACKSPAN_FUZZ_REPOSITORY == 3
  auto packs = DecodeIndexFile(in);
  if (packs.ok()) BACKSPAN_FUZZ_CHECK(DecodeIndexFile(EncodeIndexFile(*packs)).ok());
#elif BACKSPAN_FUZZ_REPOSITORY == 4
  auto tree = DecodeTree(in);
  if (tree.ok()) BACKSPAN_FUZZ_CHECK(DecodeTree(EncodeTree(*tree)).ok());
#elif BACKSPAN_FUZZ_REPOSITORY == 5
  auto snap = SnapshotFromJson(in);
  if (snap.ok()) (void)SnapshotToJson(*snap, false);
#elif BACKSPAN_FUZZ_REPOSITORY == 6
  (void)LockFromJson(in);
#else
  (void)DecodeDeletionMark(in);
#endif
  return 0;
}
