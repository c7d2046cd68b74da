"""The layers and the allowed arrows (docs/architecture.md, "Layers"), checked on the source.

An AST walk over every module of the panel (``layers/core/mamba``, ``functions/``, ``app.py``).
Every import counts, at module level or inside a function: a function-local import is still an
arrow, it only hides a cycle from the interpreter until the function runs. Imports under
``if TYPE_CHECKING:`` count for the layer rules (a type is a dependency) but not for cycles,
because they never run.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core"

STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
# The libraries that talk to the outside world: a door (functions/) never touches them itself.
WIRE_LIBRARIES = frozenset({"boto3", "botocore", "pynamodb", "requests", "stripe", "urllib3"})
# The doors: the only modules that may ask the composition root for adapters.
# mamba.snapstart: Lambda's runtime calls its hooks around the API function's snapshot, a door like app.py.
DOOR_PREFIXES = (
    "functions",
    "app",
    "mamba.web",
    "mamba.pterodactyl_web",
    "mamba.cli",
    "mamba.bootstrap",
    "mamba.snapstart",
)
# What may not import the composition root, whatever the route.
BELOW_THE_DOORS = ("mamba.services", "mamba.auth", "mamba.domain", "mamba.adapters", "mamba.migrations")


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the most specific module of the panel, or the top-level name of a library
    line: int
    type_only: bool


def _module_files() -> dict[str, Path]:
    files: dict[str, Path] = {"app": ROOT / "app.py"}
    for base, package in ((LAYER, "mamba"), (ROOT, "functions")):
        for path in sorted((base / package).rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            files[name] = path
    return files


MODULES = _module_files()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(importer: str, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    package = importer if _is_package(importer) else importer.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{module}" if module else package


def _own(name: str) -> str | None:
    """The panel module ``name`` names (itself or its closest existing parent), or None for a library."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


class _Walker(ast.NodeVisitor):
    def __init__(self, importer: str) -> None:
        self.importer = importer
        self.type_only = 0
        self.found: list[Import] = []

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        guarded = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        if not guarded:
            self.generic_visit(node)
            return
        self.type_only += 1
        for child in node.body:
            self.visit(child)
        self.type_only -= 1
        for child in node.orelse:
            self.visit(child)

    def _add(self, name: str, line: int) -> None:
        target = _own(name) or name.partition(".")[0]
        if target != self.importer:
            self.found.append(Import(self.importer, target, line, self.type_only > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(self.importer, node.module, node.level)
        for alias in node.names:
            # ``from mamba import bootstrap`` imports the module mamba.bootstrap, not the package.
            submodule = f"{base}.{alias.name}"
            self._add(submodule if submodule in MODULES else base, node.lineno)


@cache
def imports() -> tuple[Import, ...]:
    found: list[Import] = []
    for name, path in MODULES.items():
        walker = _Walker(name)
        walker.visit(ast.parse(path.read_text(), filename=str(path)))
        found.extend(walker.found)
    return tuple(found)


def _in(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _where(found: Iterator[Import] | list[Import]) -> list[str]:
    return [f"{i.importer}:{i.line} -> {i.target}" for i in found]


def test_the_walk_sees_every_layer_and_the_imports_inside_functions() -> None:
    # Given the walk, Then it found the modules of every layer (a moved tree would empty a rule)
    for layer in ("mamba.domain", "mamba.services", "mamba.adapters", "mamba.auth", "functions.api"):
        assert any(_in(name, layer) for name in MODULES), layer
    # And it counts an import written inside a function (the lazy stripe import of the billing door)
    source = "def f():\n    import stripe\n    from mamba import bootstrap\n"
    walker = _Walker("mamba.services.example")
    walker.visit(ast.parse(source))
    assert [i.target for i in walker.found] == ["stripe", "mamba.bootstrap"]


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    bad = [
        i
        for i in imports()
        if _in(i.importer, "mamba.domain")
        and not _in(i.target, "mamba.domain")
        and i.target.partition(".")[0] not in STDLIB
    ]
    assert _where(bad) == []


def test_services_import_neither_adapters_nor_the_composition_root() -> None:
    bad = [
        i for i in imports() if _in(i.importer, "mamba.services") and _in(i.target, "mamba.adapters", "mamba.bootstrap")
    ]
    assert _where(bad) == []


def test_adapters_never_import_services() -> None:
    bad = [i for i in imports() if _in(i.importer, "mamba.adapters") and _in(i.target, "mamba.services")]
    assert _where(bad) == []


def test_only_the_doors_call_the_composition_root() -> None:
    bad = [
        i
        for i in imports()
        if i.target == "mamba.bootstrap" and (_in(i.importer, *BELOW_THE_DOORS) or not _in(i.importer, *DOOR_PREFIXES))
    ]
    assert _where(bad) == []


@pytest.mark.parametrize("library", sorted(WIRE_LIBRARIES))
def test_doors_in_functions_never_import_a_wire_library(library: str) -> None:
    bad = [i for i in imports() if _in(i.importer, "functions") and i.target == library]
    assert _where(bad) == []


# The one exception: the Lambda runtime's own AWS_LAMBDA_FUNCTION_NAME, read by the module app.py
# imports first, before mamba.config (and pydantic) is imported at all (docs/performance.md).
READS_ENVIRONMENT = {"mamba.config", "mamba.init_gc"}


def test_no_module_outside_config_reads_the_environment() -> None:
    bad: list[str] = []
    for name, path in MODULES.items():
        if name in READS_ENVIRONMENT:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            reads = (isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "putenv"}) or (
                isinstance(node, ast.ImportFrom)
                and node.module == "os"
                and any(a.name in {"environ", "getenv"} for a in node.names)
            )
            if reads:
                bad.append(f"{name}:{node.lineno}")
    assert bad == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_cycle_finder_finds_a_cycle_hidden_in_a_function() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_anywhere() -> None:
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for i in imports():
        if not i.type_only and i.target in MODULES:
            edges[i.importer].add(i.target)
    assert _cycles(edges) == []


def _top_level_imports(tree: ast.Module) -> Iterator[ast.ImportFrom | ast.Import]:
    """The imports a module runs when it is imported (not those under ``if TYPE_CHECKING:``)."""
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            yield from (n for n in node.body if isinstance(n, ast.Import | ast.ImportFrom))
        if isinstance(node, ast.If):
            yield from (n for n in node.orelse if isinstance(n, ast.Import | ast.ImportFrom))


def test_doors_name_their_models_so_import_app_builds_no_schema() -> None:
    # Every function imports the whole app.py graph: a door that imports a schema module at import
    # time builds its models in every cold start. Routes name their models ("servers:ServerOut") and
    # doors bind a schema module they use with lazy_import (docs/performance.md, second pass).
    bad: list[str] = []
    for name, path in MODULES.items():
        if not _in(name, "functions"):
            continue
        for node in _top_level_imports(ast.parse(path.read_text())):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(_in(m, "mamba.schemas") for m in modules) or (
                isinstance(node, ast.ImportFrom)
                and node.module == "mamba"
                and any(a.name == "schemas" for a in node.names)
            ):
                bad.append(f"{name}:{node.lineno}")
    assert bad == []
