"""ARCHITECTURE.md's import rule, checked by static analysis of every module of ``hsi_conform``.

Imports are read with :mod:`ast`, so imports inside functions count too; only ``if TYPE_CHECKING:`` blocks are
left out. An edge goes to the module that is imported: ``from pkg import name`` goes to ``pkg.name`` when that is
a module and to ``pkg`` (its ``__init__``) otherwise; ``import a.b.c`` goes to ``a.b.c`` alone (the parent
packages it also runs are not edges, or every subpackage would be in a circle with its ``__init__``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

import hsi_conform

PACKAGE = "hsi_conform"
ROOT = Path(hsi_conform.__file__).parent

ARCHITECTURE = Path(__file__).resolve().parents[2] / "ARCHITECTURE.md"
_ROW = re.compile(r"^\| (\d+)[^|]*\| ([^|]+) \|")


def architecture_layers(text: str) -> dict[str, int]:
    """Read ARCHITECTURE.md's layer table: each backticked module or package of a row gets the row's layer.

    A package entry covers the package's ``__init__`` and every module below it; the longest matching entry wins.
    The table is the one source: this test reads it rather than keeping a copy.
    """
    layers: dict[str, int] = {}
    for line in text.splitlines():
        row = _ROW.match(line)
        if row:
            for name in re.findall(r"`([A-Za-z_][\w./]*)`", row.group(2)):
                layers[name.removesuffix(".py").rstrip("/").replace("/", ".")] = int(row.group(1))
    return layers


LAYERS: dict[str, int] = architecture_layers(ARCHITECTURE.read_text(encoding="utf-8"))

#: Imports that go up the table on purpose, each with its reason. Keep this empty where possible.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {
    ("hsi_conform.testing.corpus", "hsi_conform.corpus.golden"):
        "alias kept for code written against hsi_conform.testing.corpus (ARCHITECTURE.md)",
    ("hsi_conform.testing.zipcases", "hsi_conform.corpus.zipcases"):
        "alias kept for code written against hsi_conform.testing.zipcases (ARCHITECTURE.md)",
}


# -- the import graph ------------------------------------------------------------------------------------------


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Return every module of the package below ``root`` by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = (package, *path.relative_to(root).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Yield every import statement of a module, at any depth, except those under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)  # the else branch runs
            continue
        stack.extend(ast.iter_child_nodes(node))


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool,
                   modules: Iterable[str]) -> set[str]:
    """Return the dotted names an import statement of ``module`` makes it depend on."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    source = _absolute(node, module, is_package)
    known = set(modules)
    return {f"{source}.{a.name}" if f"{source}.{a.name}" in known else source for a in node.names}


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Return module -> the modules of the package it imports at run time (itself excluded).

    Raises:
        AssertionError: an import names a module of the package that does not exist.
    """
    modules = module_names(root, package)
    graph: dict[str, set[str]] = {}
    unknown = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets = set()
        for node in runtime_imports(tree):
            targets |= import_targets(node, name, path.name == "__init__.py", modules)
        ours = {t for t in targets if t == package or t.startswith(package + ".")}
        unknown += [f"{name} -> {t}" for t in sorted(ours) if t not in modules]
        graph[name] = {t for t in ours if t in modules and t != name}
    assert not unknown, "imports of modules that do not exist:\n" + "\n".join(unknown)
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(cycles)


def layer_of(module: str, package: str = PACKAGE) -> int | None:
    """Return the layer number of a module of the package (``None``: the table does not place it)."""
    parts = module.split(".")[1:] or ["__init__"]
    for n in range(len(parts), 0, -1):
        layer = LAYERS.get(".".join(parts[:n]))
        if layer is not None:
            return layer
    return None


def upward_edges(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Return the imports that go to a higher layer number than the importer's."""
    return sorted((a, b) for a, targets in graph.items() for b in targets
                  if (layer_of(b) or 0) > (layer_of(a) or 0))


# -- the rules -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(ROOT, PACKAGE)


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    cycles = import_cycles(graph)
    assert not cycles, "import circles (runtime imports, TYPE_CHECKING excluded):\n" + "\n".join(
        " <-> ".join(c) for c in cycles)


def test_every_module_has_a_layer(graph: dict[str, set[str]]) -> None:
    unplaced = sorted(m for m in graph if layer_of(m) is None)
    assert not unplaced, f"modules missing from ARCHITECTURE.md's layer table (and LAYERS here): {unplaced}"


def test_imports_go_to_the_same_or_a_lower_layer(graph: dict[str, set[str]]) -> None:
    offending = [(a, b) for a, b in upward_edges(graph) if (a, b) not in ALLOWED_UPWARD]
    assert not offending, "imports that go up ARCHITECTURE.md's layer table:\n" + "\n".join(
        f"{a} (layer {layer_of(a)}) -> {b} (layer {layer_of(b)})" for a, b in offending)


def test_allowed_exceptions_are_still_needed(graph: dict[str, set[str]]) -> None:
    stale = sorted(set(ALLOWED_UPWARD) - set(upward_edges(graph)))
    assert not stale, f"ALLOWED_UPWARD lists imports that no longer exist: {stale}"


def test_root_package_only_re_exports() -> None:
    tree = ast.parse((ROOT / "__init__.py").read_text(encoding="utf-8"))
    definitions = [f"{type(n).__name__} {n.name} (line {n.lineno})" for n in ast.walk(tree)
                   if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    assert not definitions, f"hsi_conform/__init__.py defines instead of re-exporting: {definitions}"
    others = [f"{type(n).__name__} (line {n.lineno})" for n in tree.body if not _is_re_export(n)]
    assert not others, f"hsi_conform/__init__.py holds more than imports, __all__ and the docstring: {others}"


def _is_re_export(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return True
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)  # the docstring
    return isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)


# -- the analysis itself, on a package made up for the purpose ---------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_analysis_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "def f():\n    from pkg import b\n",
        "b.py": "from . import c\nfrom .sub import thing\n",
        "c.py": "import pkg.a\n",
        "sub/__init__.py": "from ..c import x\nthing = 1\n",
    })
    graph = import_graph(root, "pkg")
    assert graph == {"pkg": set(), "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.c", "pkg.sub"}, "pkg.c": {"pkg.a"},
                     "pkg.sub": {"pkg.c"}}
    assert import_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.sub"]]


def test_analysis_leaves_out_type_checking_imports_only(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "import typing\nfrom typing import TYPE_CHECKING\nimport pkg.b\n",
        "b.py": ("import typing\nfrom typing import TYPE_CHECKING\n"
                 "if TYPE_CHECKING:\n    from pkg import a\nelse:\n    from pkg import c\n"
                 "if typing.TYPE_CHECKING:\n    import pkg.a\n"),
        "c.py": "",
    })
    graph = import_graph(root, "pkg")
    assert graph["pkg.b"] == {"pkg.c"}
    assert import_cycles(graph) == []


def test_analysis_does_not_add_parent_package_edges(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "from pkg.sub.leaf import x\n",
        "sub/__init__.py": "",
        "sub/leaf.py": "x = 1\n",
    })
    assert import_graph(root, "pkg")["pkg"] == {"pkg.sub.leaf"}


def test_analysis_refuses_imports_of_missing_modules(tmp_path: Path) -> None:
    root = _package(tmp_path, {"__init__.py": "", "a.py": "import pkg.gone\n"})
    with pytest.raises(AssertionError, match=r"pkg\.gone"):
        import_graph(root, "pkg")


def test_layer_lookup() -> None:
    assert layer_of("hsi_conform") == 11
    assert layer_of("hsi_conform.header") == layer_of("hsi_conform.header.model") == 1
    assert layer_of("hsi_conform.converters.specim.header") == 6
    assert layer_of("hsi_conform.cli.main") == layer_of("hsi_conform.__main__") == 11
    assert layer_of("hsi_conform.errors") == 0
    assert layer_of("hsi_conform.xarray_backend") == 6 and layer_of("hsi_conform.header.mapinfo") == 1
    assert layer_of("hsi_conform.nowhere") is None
    assert upward_edges({"hsi_conform.header.model": {"hsi_conform.rules", "hsi_conform.errors"}}) == [
        ("hsi_conform.header.model", "hsi_conform.rules")]

