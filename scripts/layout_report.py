#!/usr/bin/env python3
"""Prints the shape of src/: files and lines per folder, the largest files
and functions, and include cycles between files and between folders.

Used to measure a reshaping before and after (docs/architecture.md).
Function lengths come from Universal Ctags (`ctags`, Debian `universal-ctags`).

With --check it prints nothing but violations and exits 1 on any: an
include between folders that docs/architecture.md's table "Which folder may
include which" does not allow, or an include cycle.

usage: scripts/layout_report.py [--json] [--top N] | --check
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SRC = os.path.join(ROOT, "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def sources():
    for dirpath, _, names in os.walk(SRC):
        for name in sorted(names):
            if name.endswith((".h", ".cc")):
                path = os.path.join(dirpath, name)
                yield os.path.relpath(path, SRC)


def line_count(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return sum(1 for _ in f)


def includes(rel):
    """The project headers `rel` includes, as paths relative to src/."""
    found = []
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        for line in f:
            m = INCLUDE.match(line)
            if m and os.path.exists(os.path.join(SRC, m.group(1))):
                found.append(m.group(1))
    return found


def functions(files):
    """(lines, name, file) of every named function, from ctags' end lines."""
    out = subprocess.run(
        ["ctags", "--output-format=json", "--fields=+ne", "--c++-kinds=f", "-o", "-"]
        + [os.path.join(SRC, f) for f in files if f.endswith(".cc")],
        check=True, capture_output=True, text=True).stdout
    result = []
    for line in out.splitlines():
        tag = json.loads(line)
        if tag.get("name", "").startswith("__anon") or "end" not in tag:
            continue
        scope = tag.get("scope", "")
        scope = "" if scope.startswith("backspan") and "__anon" in scope else scope
        name = tag["name"]
        if tag.get("scopeKind") in ("class", "struct"):
            name = scope.split("::")[-1] + "::" + name
        result.append((tag["end"] - tag["line"] + 1, name, os.path.relpath(tag["path"], SRC)))
    return sorted(result, reverse=True)


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def include_rules():
    """Folder -> the folders it may include, from docs/architecture.md; None: any."""
    rules = {}
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Which folder may include which", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`"):
            continue
        allowed = None if cells[1] == "everything" else {
            f.rstrip("/") for f in re.findall(r"`([^`]+)`", cells[1])}
        for folder in re.findall(r"`([^`]+)`", cells[0]):
            rules[folder.rstrip("/")] = allowed
    return rules


def check():
    """Violations of the include rules, and include cycles."""
    rules = include_rules()
    problems = []
    for f in sources():
        folder = os.path.dirname(f)
        if folder not in rules:
            problems.append(f"{f}: its folder {folder}/ has no row in docs/architecture.md")
            continue
        for inc in includes(f):
            target = os.path.dirname(inc)
            if target != folder and rules[folder] is not None and target not in rules[folder]:
                problems.append(f"{f} includes {inc}: {folder}/ may not include {target}/")
    r = report(with_functions=False)
    for c in r["file_cycles"]:
        problems.append("include cycle between files: " + " <-> ".join(c))
    for c in r["folder_cycles"]:
        problems.append("include cycle between folders: " + " <-> ".join(c))
    return problems


def report(with_functions=True):
    files = list(sources())
    per_folder = collections.defaultdict(lambda: [0, 0])
    sizes = {}
    file_graph, folder_graph = {}, collections.defaultdict(set)
    for f in files:
        n = line_count(f)
        sizes[f] = n
        folder = os.path.dirname(f)
        per_folder[folder][0] += 1
        per_folder[folder][1] += n
        file_graph[f] = includes(f)
        for inc in file_graph[f]:
            if os.path.dirname(inc) != folder:
                folder_graph[folder].add(os.path.dirname(inc))
    # A header, its .cc and its pimpl's _impl.h are one unit: a .cc including
    # its own header is no cycle.
    unit = lambda p: re.sub(r"(_impl)?\.(h|cc)$", "", p)
    unit_graph = collections.defaultdict(set)
    for f, incs in file_graph.items():
        for inc in incs:
            if unit(inc) != unit(f):
                unit_graph[unit(f)].add(unit(inc))
    return {
        "total": {"files": len(files), "lines": sum(sizes.values())},
        "folders": {k: {"files": v[0], "lines": v[1]} for k, v in sorted(per_folder.items())},
        "largest_files": sorted(((n, f) for f, n in sizes.items()), reverse=True),
        "largest_functions": functions(files) if with_functions else [],
        "file_cycles": cycles(unit_graph),
        "folder_cycles": cycles({k: sorted(v) for k, v in folder_graph.items()}),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    if args.check:
        problems = check()
        for p in problems:
            print(p)
        sys.exit(1 if problems else 0)
    r = report()
    r["largest_files"] = r["largest_files"][:args.top]
    r["largest_functions"] = r["largest_functions"][:args.top]
    if args.json:
        print(json.dumps(r, indent=1))
        return
    print(f"src/: {r['total']['files']} files, {r['total']['lines']} lines\n")
    print("| folder | files | lines |\n|---|---|---|")
    for k, v in r["folders"].items():
        print(f"| {k} | {v['files']} | {v['lines']} |")
    print("\n| largest files | lines |\n|---|---|")
    for n, f in r["largest_files"]:
        print(f"| {f} | {n} |")
    print("\n| largest functions | file | lines |\n|---|---|---|")
    for n, name, f in r["largest_functions"]:
        print(f"| {name} | {f} | {n} |")
    print("\ninclude cycles between files (header, source and _impl.h as one unit):",
          "; ".join(" <-> ".join(c) for c in r["file_cycles"]) or "none")
    print("include cycles between folders:",
          "; ".join(" <-> ".join(c) for c in r["folder_cycles"]) or "none")


if __name__ == "__main__":
    main()
