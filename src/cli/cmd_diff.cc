#include <cstdio>

#include "cli/context.h"
#include "cli/json_output.h"

namespace backspan::cli {
namespace {

class Differ {
 public:
  explicit Differ(Repository* repo) : repo_(repo) {}

  // Compares two trees (either may be absent: a zero id) below `dir`.
  Status Compare(const BlobId* a, const BlobId* b, const std::string& dir) {
    if (a && b && *a == *b) return Status::Ok();  // identical subtrees
    Tree ta, tb;
    if (a) {
      ASSIGN_OR_RETURN(ta, repo_->LoadTree(*a));
    }
    if (b) {
      ASSIGN_OR_RETURN(tb, repo_->LoadTree(*b));
    }
    size_t i = 0, j = 0;
    while (i < ta.nodes.size() || j < tb.nodes.size()) {
      const Node* x = i < ta.nodes.size() ? &ta.nodes[i] : nullptr;
      const Node* y = j < tb.nodes.size() ? &tb.nodes[j] : nullptr;
      if (x && (!y || x->name < y->name)) {
        RETURN_IF_ERROR(Removed(*x, dir + "/" + x->name, '-'));
        ++i;
      } else if (y && (!x || y->name < x->name)) {
        RETURN_IF_ERROR(Removed(*y, dir + "/" + y->name, '+'));
        ++j;
      } else {
        RETURN_IF_ERROR(Both(*x, *y, dir + "/" + x->name));
        ++i;
        ++j;
      }
    }
    return Status::Ok();
  }

  std::vector<DiffEntry> changes;

 private:
  // A node only on one side, with everything below it.
  Status Removed(const Node& n, const std::string& path, char modifier) {
    changes.push_back({n.kind == FileKind::kDir ? path + "/" : path, modifier});
    if (n.kind != FileKind::kDir) return Status::Ok();
    return modifier == '-' ? Compare(&n.subtree, nullptr, path) : Compare(nullptr, &n.subtree, path);
  }

  Status Both(const Node& x, const Node& y, const std::string& path) {
    if (x.kind != y.kind) {
      changes.push_back({path, 'T'});
      return Status::Ok();
    }
    if (x.kind == FileKind::kDir) return Compare(&x.subtree, &y.subtree, path);
    if (x.content != y.content || x.link_target != y.link_target) changes.push_back({path, 'M'});
    else if (x.mode != y.mode || x.uid != y.uid || x.gid != y.gid || x.mtime_ns != y.mtime_ns)
      changes.push_back({path, 'U'});
    return Status::Ok();
  }

  Repository* repo_;
};

}  // namespace

int RunDiff(const GlobalOptions& g, const DiffCommand& c) {
  auto repo = OpenRepository(g, true, LockKind::kShared, "diff");
  if (!repo.ok()) return Fail(g, repo.status());
  auto a = (*repo)->FindSnapshot(c.first);
  if (!a.ok()) return Fail(g, a.status());
  auto b = (*repo)->FindSnapshot(c.second);
  if (!b.ok()) return Fail(g, b.status());
  Differ differ(repo->get());
  Status st = differ.Compare(&a->tree, &b->tree, "");
  if (!st.ok()) return Fail(g, st);
  if (g.json) {
    std::printf("%s\n", DiffJson(*a, *b, differ.changes).c_str());
    return kExitOk;
  }
  std::printf("comparing snapshot %s to %s:\n\n", a->id.substr(0, 8).c_str(), b->id.substr(0, 8).c_str());
  size_t counts[256] = {};
  for (const auto& ch : differ.changes) {
    std::printf("%c    %s\n", ch.modifier, ch.path.c_str());
    counts[static_cast<unsigned char>(ch.modifier)]++;
  }
  std::printf("\nAdded: %zu  Removed: %zu  Changed: %zu  Metadata only: %zu  Type changed: %zu\n",
              counts[size_t{'+'}], counts[size_t{'-'}], counts[size_t{'M'}], counts[size_t{'U'}], counts[size_t{'T'}]);
  return kExitOk;
}

}  // namespace backspan::cli
