// Writes the seed corpora of the repository-format fuzz targets with the
// real encoders (tests/fuzz/corpus/fuzz_<format>/), so the fuzzers start
// from well-formed objects: `make_seeds DIR`. The other targets' seeds are
// files taken from the tests and kept as they are.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "audit/audit_log.h"
#include "crypto/crypto.h"
#include "env/env.h"
#include "repository/deletion_mark.h"
#include "repository/index.h"
#include "repository/key_file.h"
#include "repository/lock.h"
#include "repository/pack.h"
#include "repository/snapshot.h"
#include "repository/tree.h"

using namespace backspan;

namespace {

BlobId Blob(uint8_t n) {
  BlobId id;
  id.bytes.fill(n);
  return id;
}

void Put(const std::string& dir, const std::string& name, ByteView data) {
  Env* env = Env::Default();
  if (!CreateDirs(env, dir).ok() || !WriteFileAtomic(env, dir + "/" + name, data).ok())
    std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), name.c_str());
}

void Put(const std::string& dir, const std::string& name, const std::string& text) {
  Put(dir, name, ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
    return 2;
  }
  const std::string root = argv[1];
  Put(root + "/fuzz_config", "config.json",
      std::string(R"({"version":1,"id":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","chunker":)"
                  R"({"algorithm":"fastcdc","min_size":524288,"avg_size":1048576,"max_size":8388608,)"
                  R"("gear_key":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}})"));
  const MasterKey key{crypto::RandomKey(), crypto::RandomKey()};
  auto kf = NewKeyFile(key, "pw", "host", "user", 1'790'000'000'000'000'000);
  if (kf.ok()) Put(root + "/fuzz_key_file", "key.json", SerializeKeyFile(*kf));

  std::vector<PackEntry> entries = {{BlobType::kData, true, Blob(1), 0, 100, 300},
                                    {BlobType::kTree, false, Blob(2), 100, 50, 50}};
  Put(root + "/fuzz_pack_header", "header", EncodePackHeader(entries));
  Put(root + "/fuzz_index", "index", EncodeIndexFile({{Blob(7), entries}, {Blob(8), {entries[0]}}}));

  Tree tree;
  Node dir;
  dir.name = "etc";
  dir.kind = FileKind::kDir;
  dir.mode = 0755;
  dir.subtree = Blob(3);
  Node file;
  file.name = "passwd";
  file.kind = FileKind::kFile;
  file.mode = 0644;
  file.size = 400;
  file.content = {Blob(1), Blob(4)};
  Node link;
  link.name = "zlink";
  link.kind = FileKind::kSymlink;
  link.link_target = "../x";
  tree.nodes = {dir, file, link};
  Put(root + "/fuzz_tree", "tree", EncodeTree(tree));

  Snapshot s;
  s.time_ns = 1'790'000'000'000'000'000;
  s.tree = Blob(5);
  s.paths = {"/srv/data"};
  s.hostname = "db1";
  s.username = "root";
  s.tags = {"env=prod", "azure.resource_group.name=rg-a"};
  s.parent = std::string(64, 'a');
  s.program_version = "backspan 0.1.0";
  s.trace_id = std::string(32, 'b');
  Put(root + "/fuzz_snapshot", "snapshot.json", SnapshotToJson(s, false));

  LockInfo l;
  l.job = "0123456789abcdef";
  l.exclusive = true;
  l.command = "prune";
  l.hostname = "db1";
  l.username = "root";
  l.pid = 4242;
  l.started_ns = l.refreshed_ns = 1'790'000'000'000'000'000;
  Put(root + "/fuzz_lock", "lock.json", LockToJson(l));

  DeletionMark m;
  m.time_ns = 1'790'000'000'000'000'000;
  m.jobs = {"0123456789abcdef"};
  m.packs = {{Blob(7), entries}};
  m.strays = {{Blob(9), {}}};
  Put(root + "/fuzz_deletion_mark", "mark", EncodeDeletionMark(m));

  // An audit log of two records, as the fuzzer lays it out: the segment,
  // "\n--\n", the head.
  Env* env = Env::Default();
  const std::string audit_dir = "/tmp/backspan-seeds-audit-" + std::to_string(getpid());
  if (auto log = audit::AuditLog::Open(env, audit_dir); log.ok()) {
    for (const char* result : {"allowed", "denied"}) {
      audit::AuditRecord r;
      r.issuer = "https://issuer.test";
      r.subject = "agent";
      r.action = "ingest.otlp";
      r.scope = "rg-a";
      r.resource = "/v1/traces";
      r.result = result;
      r.client = "127.0.0.1";
      (void)(*log)->Append(std::move(r));
    }
    log->reset();
    auto segment = ReadWholeFile(env, audit_dir + "/audit-000001.jsonl");
    auto head = ReadWholeFile(env, audit_dir + "/audit.head");
    if (segment.ok() && head.ok()) {
      Bytes seed = *segment;
      const std::string sep = "\n--\n";
      seed.insert(seed.end(), sep.begin(), sep.end());
      seed.insert(seed.end(), head->begin(), head->end());
      Put(root + "/fuzz_audit_log", "log", seed);
    }
    (void)env->Remove(audit_dir + "/audit-000001.jsonl");
    (void)env->Remove(audit_dir + "/audit.head");
    (void)env->Remove(audit_dir);
  }
  return 0;
}
