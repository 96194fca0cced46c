"""No import cycles between subpackages: each one owns a verb, and the arrows go one way.

The graph is read from the source with ``ast``: every import counts, at module level, inside
a function or under ``TYPE_CHECKING``, since a function-local import is the same dependency,
only hidden. A node is a subpackage of ``taigimed`` (``taigimed.evaluate.gate`` → ``evaluate``);
the modules directly under ``taigimed`` (``config.py``, ``artifacts.py``, ``cli.py``, ...) are
the shared root every subpackage may use, and are not nodes.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

import taigimed

SRC = Path(taigimed.__file__).resolve().parent

# Edges that still close a cycle, each with why it is there and what removes it. The test
# below fails on any cycle not broken by one of these, and on an entry that no longer exists.
ALLOWED: dict[tuple[str, str], str] = {}


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Dotted names an import statement refers to (``from x import y`` → x and x.y)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:  # relative: from the importing module's package, up level - 1
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph(package_dir: Path) -> dict[tuple[str, str], set[str]]:
    """(importing subpackage, imported subpackage) → the files where that import is."""
    name = package_dir.name
    subpackages = {p.name for p in package_dir.iterdir() if (p / "__init__.py").is_file()}
    edges: dict[tuple[str, str], set[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir)
        if len(rel.parts) < 2 or rel.parts[0] not in subpackages:
            continue  # the shared root
        is_package = path.name == "__init__.py"
        module = ".".join([name, *rel.with_suffix("").parts[: -1 if is_package else None]])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for target in _imported(node, module, is_package):
                root, _, rest = target.partition(".")
                imported = rest.split(".")[0]
                if root == name and imported in subpackages and imported != rel.parts[0]:
                    edges.setdefault((rel.parts[0], imported), set()).add(str(rel))
    return edges


def find_cycle(edges: dict[tuple[str, str], set[str]]) -> list[str] | None:
    """One cycle of subpackages (first == last), or None."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def _explain(cycle: list[str], edges: dict[tuple[str, str], set[str]]) -> str:
    # graphlib lists a cycle against the arrows (each node is imported by the one after it)
    steps = list(zip(cycle[1:], cycle, strict=False))
    return "; ".join(f"{a} → {b} ({', '.join(sorted(edges[(a, b)]))})" for a, b in steps)


def test_no_cycles_between_subpackages():
    edges = import_graph(SRC)
    kept = {edge: files for edge, files in edges.items() if edge not in ALLOWED}
    cycle = find_cycle(kept)
    assert cycle is None, f"import cycle between subpackages: {_explain(cycle, kept)}"


def test_every_allowed_edge_still_exists_and_still_closes_a_cycle():
    """An allow-list entry whose import is gone, or that no longer closes a cycle, is removed
    here, so the list only ever shrinks."""
    edges = import_graph(SRC)
    for edge in ALLOWED:
        assert edge in edges, f"{edge} is no longer imported: drop it from ALLOWED"
        assert find_cycle(edges) is not None
        assert find_cycle({e: f for e, f in edges.items() if e == edge or e not in ALLOWED}), (
            f"{edge} no longer closes a cycle: drop it from ALLOWED"
        )


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    "back",
    [
        "from pkg.a import x\n",  # module level
        "def f():\n    from pkg.a.x import g\n",  # hidden in a function
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a.x\n",
        "def f():\n    from ..a import x\n",  # relative
    ],
    ids=["module-level", "function-local", "type-checking", "relative"],
)
def test_a_cycle_is_found_however_the_import_is_written(tmp_path, back):
    pkg = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "shared.py": "from pkg.b import y\n",  # the root imports freely
            "a/__init__.py": "",
            "a/x.py": "from pkg.b.y import h\nfrom pkg import shared\n",
            "b/__init__.py": "",
            "b/y.py": "def h():\n    return 1\n",
            "c/__init__.py": "from pkg.a import x\n",
        },
    )
    assert import_graph(pkg) == {("a", "b"): {"a/x.py"}, ("c", "a"): {"c/__init__.py"}}
    assert find_cycle(import_graph(pkg)) is None
    (pkg / "b" / "y.py").write_text(back, encoding="utf-8")
    cycle = find_cycle(import_graph(pkg))
    assert cycle is not None and set(cycle) == {"a", "b"}


def test_a_longer_cycle_is_found(tmp_path):
    pkg = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "a/__init__.py": "import pkg.b\n",
            "b/__init__.py": "from pkg import c\n",
            "c/__init__.py": "def f():\n    import pkg.a.deep\n",
        },
    )
    cycle = find_cycle(import_graph(pkg))
    assert cycle is not None and set(cycle) == {"a", "b", "c"}
