#include "pruner/usage.h"

#include "util/interrupt.h"

namespace backspan {

Status CollectUsed(Repository* repo, const std::vector<Snapshot>& snapshots, BlobSet* used) {
  std::vector<std::pair<BlobId, std::string>> todo;  // tree, snapshot it came from
  for (const auto& s : snapshots) todo.push_back({s.tree, s.id});
  uint64_t missing = 0;
  std::string example;
  while (!todo.empty()) {
    if (InterruptRequested()) return InterruptedStatus("the prune");
    auto [tree_id, snap] = todo.back();
    todo.pop_back();
    if (!used->insert(tree_id).second) continue;
    if (!repo->index().Has(tree_id))
      return Status::Corruption("tree " + tree_id.ShortHex() + " of snapshot " + snap.substr(0, 8) +
                                " is missing; run 'backspan check' before pruning");
    ASSIGN_OR_RETURN(Tree tree, repo->LoadTree(tree_id));
    for (const auto& n : tree.nodes) {
      if (n.kind == FileKind::kDir) {
        todo.push_back({n.subtree, snap});
      } else if (n.kind == FileKind::kFile) {
        for (const auto& id : n.content) {
          if (!used->insert(id).second) continue;
          if (!repo->index().Has(id)) {
            ++missing;
            if (example.empty()) example = n.name + " in snapshot " + snap.substr(0, 8);
          }
        }
      }
    }
  }
  if (missing > 0)
    return Status::Corruption(std::to_string(missing) + " blobs referenced by snapshots are missing (e.g. " +
                              example + "); prune removes nothing until 'backspan check' is clean");
  return Status::Ok();
}

Result<State> LoadState(Repository* repo) {
  State st;
  ASSIGN_OR_RETURN(st.snapshots, repo->LoadAllSnapshots(/*vanished_is_error=*/true));
  repo->index().Clear();
  Status loaded = repo->LoadIndex(&st.listed, &st.index_files);
  if (loaded.code() == ErrorCode::kCorruption)
    return loaded.WithContext("prune needs every index file to know what is used; run 'backspan repair index' first");
  RETURN_IF_ERROR(loaded);
  for (const auto& p : st.listed) {
    auto& v = st.packs[p.id];
    v.insert(v.end(), p.entries.begin(), p.entries.end());
  }
  return st;
}

Status WriteIndexWithout(Repository* repo, const State& st, const std::set<PackId>& drop) {
  std::vector<IndexedPack> keep;
  for (const auto& [pid, entries] : st.packs)
    if (!drop.count(pid)) keep.push_back({pid, entries});
  RETURN_IF_ERROR(repo->WriteIndexFiles(keep).status());
  for (const auto& f : st.index_files)
    RETURN_IF_ERROR(Ignore(repo->backend()->Remove(FileType::kIndex, f), ErrorCode::kNotFound));
  return Status::Ok();
}

}  // namespace backspan
