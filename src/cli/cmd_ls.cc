#include <cstdio>

#include "cli/context.h"
#include "cli/json_output.h"

namespace backspan::cli {
namespace {

// Walks `tree` depth-first, calling `visit` for every node whose path is
// `filter` or below it (or everything if `filter` is empty).
Status Walk(Repository* repo, const BlobId& tree_id, const std::string& dir, const std::string& filter,
            const std::function<void(const std::string&, const Node&)>& visit) {
  ASSIGN_OR_RETURN(Tree tree, repo->LoadTree(tree_id));
  for (const auto& n : tree.nodes) {
    std::string path = dir + "/" + n.name;
    bool inside = filter.empty() || path == filter || path.rfind(filter + "/", 0) == 0;
    bool above = !inside && filter.rfind(path + "/", 0) == 0;
    if (inside) visit(path, n);
    if (n.kind == FileKind::kDir && (inside || above))
      RETURN_IF_ERROR(Walk(repo, n.subtree, path, filter, visit));
  }
  return Status::Ok();
}

}  // namespace

int RunLs(const GlobalOptions& g, const LsCommand& c) {
  auto repo = OpenRepository(g, true, LockKind::kShared, "ls");
  if (!repo.ok()) return Fail(g, repo.status());
  auto snap = (*repo)->FindSnapshot(c.snapshot);
  if (!snap.ok()) return Fail(g, snap.status());
  std::string filter = c.path;
  while (filter.size() > 1 && filter.back() == '/') filter.pop_back();
  if (filter == "/") filter.clear();
  std::vector<std::string> docs;
  Status st = Walk(repo->get(), snap->tree, "", filter, [&](const std::string& path, const Node& n) {
    if (g.json) docs.push_back(NodeJson(path, n));
    else std::printf("%s\n", path.c_str());
  });
  if (!st.ok()) return Fail(g, st);
  if (g.json) std::printf("%s\n", LsJson(*snap, docs).c_str());
  return kExitOk;
}

}  // namespace backspan::cli
