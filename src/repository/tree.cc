#include "repository/tree.h"

#include "util/encoding.h"

namespace backspan {

namespace {
constexpr uint8_t kTreeVersion = 1;
}

bool IsSafeName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

Bytes EncodeTree(const Tree& tree) {
  Encoder enc;
  enc.PutU8(kTreeVersion);
  enc.PutVarint(tree.nodes.size());
  for (const auto& n : tree.nodes) {
    enc.PutString(n.name);
    enc.PutU8(static_cast<uint8_t>(n.kind));
    enc.PutVarint(n.mode);
    enc.PutVarint(n.uid);
    enc.PutVarint(n.gid);
    enc.PutSignedVarint(n.mtime_ns);
    enc.PutSignedVarint(n.ctime_ns);
    enc.PutVarint(n.dev);
    enc.PutVarint(n.inode);
    enc.PutVarint(n.nlink);
    enc.PutVarint(n.rdev);
    enc.PutVarint(n.size);
    switch (n.kind) {
      case FileKind::kSymlink: enc.PutString(n.link_target); break;
      case FileKind::kFile:
        enc.PutVarint(n.content.size());
        for (const auto& id : n.content) enc.PutRaw(id.bytes);
        break;
      case FileKind::kDir: enc.PutRaw(n.subtree.bytes); break;
      default: break;
    }
  }
  return enc.Take();
}

Result<Tree> DecodeTree(ByteView data) {
  Decoder dec(data);
  uint8_t version = 0;
  uint64_t count = 0;
  RETURN_IF_ERROR(dec.GetU8(&version));
  if (version != kTreeVersion) return Status::Corruption("unknown tree version");
  RETURN_IF_ERROR(dec.GetVarint(&count));
  if (count > data.size()) return Status::Corruption("tree node count is implausible");
  Tree tree;
  tree.nodes.resize(count);
  for (size_t i = 0; i < count; ++i) {
    Node& n = tree.nodes[i];
    uint8_t kind = 0;
    uint64_t mode = 0, uid = 0, gid = 0;
    RETURN_IF_ERROR(dec.GetString(&n.name));
    if (!IsSafeName(n.name)) return Status::Corruption("tree contains an unsafe file name");
    if (i > 0 && !(tree.nodes[i - 1].name < n.name))
      return Status::Corruption("tree names are not sorted and unique");
    RETURN_IF_ERROR(dec.GetU8(&kind));
    if (kind > static_cast<uint8_t>(FileKind::kOther)) return Status::Corruption("tree node has an unknown type");
    n.kind = static_cast<FileKind>(kind);
    RETURN_IF_ERROR(dec.GetVarint(&mode));
    RETURN_IF_ERROR(dec.GetVarint(&uid));
    RETURN_IF_ERROR(dec.GetVarint(&gid));
    n.mode = static_cast<uint32_t>(mode & 07777);
    n.uid = static_cast<uint32_t>(uid);
    n.gid = static_cast<uint32_t>(gid);
    RETURN_IF_ERROR(dec.GetSignedVarint(&n.mtime_ns));
    RETURN_IF_ERROR(dec.GetSignedVarint(&n.ctime_ns));
    RETURN_IF_ERROR(dec.GetVarint(&n.dev));
    RETURN_IF_ERROR(dec.GetVarint(&n.inode));
    RETURN_IF_ERROR(dec.GetVarint(&n.nlink));
    RETURN_IF_ERROR(dec.GetVarint(&n.rdev));
    RETURN_IF_ERROR(dec.GetVarint(&n.size));
    ByteView raw;
    switch (n.kind) {
      case FileKind::kSymlink: RETURN_IF_ERROR(dec.GetString(&n.link_target)); break;
      case FileKind::kFile: {
        uint64_t blobs = 0;
        RETURN_IF_ERROR(dec.GetVarint(&blobs));
        if (blobs > dec.remaining() / 32) return Status::Corruption("tree node blob count is implausible");
        n.content.resize(blobs);
        for (auto& id : n.content) {
          RETURN_IF_ERROR(dec.GetRaw(32, &raw));
          std::copy(raw.begin(), raw.end(), id.bytes.begin());
        }
        break;
      }
      case FileKind::kDir:
        RETURN_IF_ERROR(dec.GetRaw(32, &raw));
        std::copy(raw.begin(), raw.end(), n.subtree.bytes.begin());
        break;
      default: break;
    }
  }
  if (!dec.done()) return Status::Corruption("tree has trailing bytes");
  return tree;
}

}  // namespace backspan
