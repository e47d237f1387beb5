"""The names in src/trace/semconv.h and the span catalog in the docs agree:
every name backspan writes or reads is documented, and every backspan.* name
docs/tracing.md's catalog lists is a constant in semconv.h.

The docs write families with braces, `backspan.files.{new,changed}`, and
placeholders, `backspan.storage.<operation>.requests`."""
import itertools
import os
import re
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DOCS = ["tracing.md", "api.md", "security.md"]


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def constants():
    """name -> value of every attribute and event name in semconv.h."""
    found = dict(re.findall(r'inline constexpr char (k\w+)\[\] = "([^"]+)";', read("src", "trace", "semconv.h")))
    return {n: v for n, v in found.items() if "." in v}  # job statuses ("ok", ...) are values, not names


def expand(name):
    """`a.{b,c}.d` -> a.b.d, a.c.d (braces may repeat)."""
    parts = re.split(r"\{([^{}]*)\}", name)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def documented_names(text):
    names = set()
    for quoted in re.findall(r"`([a-z][a-z0-9_.{},<>*]*)`", text):
        for name in expand(quoted):
            names.add(name)
    return names


class SpanCatalogTest(unittest.TestCase):
    def test_every_name_is_documented(self):
        names = set()
        for doc in DOCS:
            names |= documented_names(read("docs", doc))
        undocumented = []
        for const, value in sorted(constants().items()):
            if const.endswith("Prefix"):
                ok = any(n.startswith(value) and n != value for n in names)
            else:
                ok = value in names
            if not ok:
                undocumented.append(f"{const} = {value}")
        self.assertEqual(undocumented, [], "names in semconv.h that docs/{" + ",".join(DOCS) + "} do not list")

    def test_the_catalog_lists_only_defined_names(self):
        text = read("docs", "tracing.md")
        catalog = text.split("## Span catalog", 1)[1].split("\n## ", 1)[0]
        values = set(constants().values())
        prefixes = [v for n, v in constants().items() if n.endswith("Prefix")]
        unknown = []
        for name in sorted(documented_names(catalog)):
            if not name.startswith("backspan.") or "<" in name:
                continue
            if name not in values and not any(name.startswith(p) for p in prefixes if p != "backspan."):
                unknown.append(name)
        self.assertEqual(unknown, [], "names the span catalog lists that src/trace/semconv.h does not define")


if __name__ == "__main__":
    unittest.main()
