"""The import rules of the library, checked on its source with :mod:`ast`.

Why: the pipeline stages are meant to stack (sources -> graph -> validate -> export ->
publish -> build -> site, then the corpus tools), so that a later refactor can move code between
them safely. Three rules keep that true, and a human reviewer misses them easily because half
the imports sit inside functions:

(a) no import cycle among toolkit modules. Every import counts, at module level and inside
    functions (a cycle hidden in a function is still a cycle of the design); imports under
    ``if TYPE_CHECKING:`` do not count (they never run);
(b) no ``_private`` name of another toolkit module used: neither imported (``from m import
    _x``) nor read as an attribute of an imported module (``m._x``, ``toolkit.m._x``). A private
    name is private to its module; make it public with a docstring, or move the use to the
    module that owns it;
(c) a stage never imports a later stage, in the order :data:`STAGES`.

``toolkit.query`` and the command line (``toolkit.cli*``) are outside the stage order: they
sit on top of the whole pipeline.
Modules that are not in a stage (``config``, ``errors``, ``report``, ``schema``...) are
shared by every stage; rules (a) and (b) hold for all modules.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "toolkit"

#: the pipeline stages, earliest first: a module of one may import only earlier ones
STAGES = ("sources", "graph", "validate", "export", "publish", "build", "site", "corpus")


@dataclass(frozen=True)
class Import:
    """One toolkit module importing another (or a name of it), where in the source."""

    importer: str
    target: str  # the toolkit module imported (or holding the imported name)
    name: str | None  # the name imported from ``target`` (``from m import name``), if any
    line: int
    type_checking: bool  # under ``if TYPE_CHECKING:``: never runs, counts only for rule (b)
    attribute: bool = False  # not an import: ``target.name`` read as an attribute (rule (b) only)

    def where(self) -> str:
        return f"{self.importer} (line {self.line})"


def module_names(package: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module of the package (packages by their ``__init__``)."""
    mods: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector(ast.NodeVisitor):
    """Every toolkit import of one module, at any depth (functions, classes, branches)."""

    def __init__(self, name: str, is_package: bool, mods: dict[str, Path]) -> None:
        self.name, self.is_package, self.mods = name, is_package, mods
        self.root = next(iter(mods)).split(".")[0]
        self.found: list[Import] = []
        self.type_checking = False
        self.aliases: dict[str, str] = {}  # local name -> the toolkit module (or package) it is bound to

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.visit(node.test)
        outer, self.type_checking = self.type_checking, True
        for child in node.body:
            self.visit(child)
        self.type_checking = outer
        for child in node.orelse:
            self.visit(child)

    def _module_of(self, dotted: str) -> str | None:
        """The longest prefix of ``dotted`` that is a toolkit module."""
        while dotted and dotted not in self.mods:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    def _add(self, node: ast.stmt, target: str | None, name: str | None) -> None:
        if target is not None and target != self.name:
            self.found.append(Import(self.name, target, name, node.lineno, self.type_checking))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] == self.root:
                self._add(node, self._module_of(alias.name), None)
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:  # `import toolkit.a.b` binds `toolkit`; the attribute chain names the rest
                    self.aliases[self.root] = self.root

    def _dotted(self, node: ast.expr) -> str | None:
        """The toolkit module an expression names (``loader``, ``toolkit.sources.loader``), if any."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            if base is not None and f"{base}.{node.attr}" in self.mods:
                return f"{base}.{node.attr}"
        return None

    def visit_Attribute(self, node: ast.Attribute) -> None:
        module = self._dotted(node.value)
        if module is not None and module != self.name and node.attr.startswith("_") and not node.attr.startswith("__"):
            self.found.append(Import(self.name, module, node.attr, node.lineno, self.type_checking, attribute=True))
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.name.split(".") if self.is_package else self.name.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        if module.split(".")[0] != self.root:
            return
        for alias in node.names:
            full = f"{module}.{alias.name}"
            if full in self.mods:  # `from toolkit.export import units`: a submodule, not a name
                self._add(node, full, None)
                self.aliases[alias.asname or alias.name] = full
            else:
                self._add(node, self._module_of(module), alias.name)


def collect(package: Path = PACKAGE) -> tuple[dict[str, Path], list[Import]]:
    mods = module_names(package)
    found: list[Import] = []
    for name, path in mods.items():
        collector = _Collector(name, path.name == "__init__.py", mods)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found += collector.found
    return mods, found


def cycles(mods: dict[str, Path], imports: list[Import]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for imp in imports:
        if not imp.type_checking and not imp.attribute:
            graph[imp.importer].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def private_imports(imports: list[Import]) -> list[str]:
    return sorted(
        f"{imp.where()} {'reads' if imp.attribute else 'imports'} {imp.target}.{imp.name}"
        for imp in imports
        if imp.name and imp.name.startswith("_") and not imp.name.startswith("__")
    )


def stage_of(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in STAGES:
        return STAGES.index(parts[1])
    return None


def later_stage_imports(imports: list[Import]) -> list[str]:
    bad = []
    for imp in imports:
        mine, theirs = stage_of(imp.importer), stage_of(imp.target)
        if imp.type_checking or imp.attribute or mine is None or theirs is None:
            continue
        if theirs > mine:
            bad.append(f"{imp.where()} imports {imp.target}: {STAGES[mine]} comes before {STAGES[theirs]}")
    return sorted(bad)


@pytest.fixture(scope="module")
def toolkit_imports() -> tuple[dict[str, Path], list[Import]]:
    return collect()


def test_the_collector_sees_the_whole_library(toolkit_imports: tuple[dict[str, Path], list[Import]]) -> None:
    # a guard against a collector that finds nothing and so passes every rule
    mods, imports = toolkit_imports
    assert {"toolkit", "toolkit.cli", "toolkit.publish.release", "toolkit.graph.build"} <= set(mods)
    assert any(i.importer == "toolkit.publish.release" and i.target == "toolkit.config" for i in imports)


def test_no_import_cycle(toolkit_imports: tuple[dict[str, Path], list[Import]]) -> None:
    mods, imports = toolkit_imports
    found = cycles(mods, imports)
    assert not found, "import cycles (imports inside functions count too):\n" + "\n".join(
        " <-> ".join(c) for c in found
    )


def test_no_private_name_imported_from_another_module(
    toolkit_imports: tuple[dict[str, Path], list[Import]],
) -> None:
    found = private_imports(toolkit_imports[1])
    assert not found, "private names imported across modules (make them public or move them):\n" + "\n".join(found)


def test_no_stage_imports_a_later_stage(toolkit_imports: tuple[dict[str, Path], list[Import]]) -> None:
    found = later_stage_imports(toolkit_imports[1])
    assert not found, "a stage imports a later one:\n" + "\n".join(found)


def test_each_rule_catches_a_planted_violation(tmp_path: Path) -> None:
    """The three rules, on a small package made to break each once."""
    pkg = tmp_path / "toolkit"
    for folder in ("graph", "publish"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from toolkit.b import _secret\n")
    (pkg / "b.py").write_text("from toolkit import a\n_secret = 1\n")
    (pkg / "c.py").write_text(
        "import toolkit.b\nimport toolkit.graph as g\nfrom toolkit import b as bee\n"
        "from toolkit.publish import release\n"
        "def f():\n    return bee._secret, toolkit.b._secret, release._x, g.build._y, bee.__name__, release.ok\n"
    )
    (pkg / "graph" / "build.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from toolkit.publish import x\n"
        "from ..publish import release\n"
    )
    (pkg / "publish" / "release.py").write_text("from toolkit.graph.build import thing\n")
    mods, imports = collect(pkg)
    assert cycles(mods, imports) == [["toolkit.a", "toolkit.b"], ["toolkit.graph.build", "toolkit.publish.release"]]
    assert private_imports(imports) == [
        "toolkit.a (line 2) imports toolkit.b._secret",
        "toolkit.c (line 6) reads toolkit.b._secret",
        "toolkit.c (line 6) reads toolkit.b._secret",
        "toolkit.c (line 6) reads toolkit.graph.build._y",
        "toolkit.c (line 6) reads toolkit.publish.release._x",
    ]
    assert later_stage_imports(imports) == [
        "toolkit.graph.build (line 4) imports toolkit.publish.release: graph comes before publish"
    ]


def test_the_site_is_a_stage_after_build(tmp_path: Path) -> None:
    """The site reads only a finished release: build and publish may not import it, nor it the corpus tools."""
    assert stage_of("toolkit.site.pages") == STAGES.index("build") + 1
    assert STAGES.index("publish") < STAGES.index("site") < STAGES.index("corpus")
    pkg = tmp_path / "toolkit"
    for folder in ("publish", "site", "corpus"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "publish" / "release.py").write_text("from toolkit.site import pages\n")
    (pkg / "site" / "pages.py").write_text("from toolkit.corpus import gen\nfrom toolkit.publish import release\n")
    (pkg / "corpus" / "gen.py").write_text("")
    _mods, imports = collect(pkg)
    assert later_stage_imports(imports) == [
        "toolkit.publish.release (line 1) imports toolkit.site.pages: publish comes before site",
        "toolkit.site.pages (line 1) imports toolkit.corpus.gen: site comes before corpus",
    ]
