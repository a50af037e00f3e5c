"""The shape of the code (docs/ARCHITECTURE.md), read from its imports and its words.

No circle of imports; the two doors (the command line and the pages) never import each other;
the operations and the domain never import Flask or Click; no import hides inside a function;
each level label of the ballot is written once in the source.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("votes", "reports")
# Web frameworks and the command-line toolkit: only the doors and the app factory use them.
FRAMEWORKS = (
    "flask",
    "flask_babel",
    "flask_login",
    "flask_limiter",
    "flask_wtf",
    "werkzeug",
    "wtforms",
    "click",
    "markupsafe",
    "jinja2",
)
DOORS = ("votes.cli", "votes.web", "votes.app")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # Alembic's scripts are run by Alembic, not imported
            found[module_name(path)] = path
    return found


def imports(path: Path, name: str) -> Iterator[tuple[str, ast.AST, bool]]:
    """Yield (imported module, statement, inside a function) for every import of a file.

    A call of `lazy_module("votes.x")` (votes/lazy.py) is an import too.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    nested = {id(n) for f in functions for n in ast.walk(f) if n is not f}
    for node in ast.walk(tree):
        inside = id(node) in nested
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node, inside
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            submodules = [f"{target}.{alias.name}" for alias in node.names]
            known = [sub for sub in submodules if sub in MODULES]
            # `from . import rounds` imports the module rounds, not the package around it.
            if len(known) < len(submodules):
                yield target, node, inside
            for sub in known:
                yield sub, node, inside
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "lazy_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            # votes/lazy.py: a module named at the top of a file, loaded on first use.
            yield str(node.args[0].value), node, inside


MODULES = modules()


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, _node, _inside in imports(path, name):
            if target in known and target != name:
                edges[name].add(target)
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in edges[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back() -> None:
    assert circles(graph()) == []


def test_the_circle_finder_finds_a_circle() -> None:
    """The check above can fail: a circle made up here is found."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(edges) == [["a", "b", "c"]]


def _is(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def test_the_doors_do_not_import_each_other() -> None:
    for name, path in modules().items():
        targets = {target for target, _node, _inside in imports(path, name)}
        if _is(name, "votes.web"):
            assert not any(_is(t, "votes.cli") for t in targets), name
        if _is(name, "votes.cli"):
            assert not any(_is(t, "votes.web") for t in targets), name


@pytest.mark.parametrize("name", sorted(n for n in modules() if not any(_is(n, d) for d in DOORS)))
def test_the_core_knows_no_web_framework(name: str) -> None:
    """The operations, the domain and the documents take plain values, never a request."""
    path = modules()[name]
    frameworks = [
        target
        for target, _node, _inside in imports(path, name)
        if any(_is(target, f) for f in FRAMEWORKS)
    ]
    assert frameworks == [], f"{name} imports {frameworks}"


def test_no_import_inside_a_function() -> None:
    """Imports stand at the top of a file, where the next reader looks for them."""
    hidden = [
        f"{path.relative_to(ROOT)}:{node.lineno} {target}"
        for name, path in modules().items()
        for target, node, inside in imports(path, name)
        if inside and name != "votes"  # votes/__init__.py: TYPE_CHECKING names only
    ]
    assert hidden == []


LEVEL_LABELS = (
    "High confidence",
    "Low confidence",
    "No confidence",
    "Tín nhiệm cao",
    "Tín nhiệm thấp",
    "Không tín nhiệm",
)


def source_files() -> Iterator[Path]:
    for folder in ("votes", "reports", "templates"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".html") and "translations" not in path.parts:
                yield path


@pytest.mark.parametrize("label", LEVEL_LABELS)
def test_each_level_label_is_written_once(label: str) -> None:
    """A level's label lives in votes/vocabulary.py (English id) and the catalogue only."""
    pattern = re.compile(rf"[\"']{re.escape(label)}[\"']")
    places = [
        str(path.relative_to(ROOT))
        for path in source_files()
        for _ in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    english = label.isascii()
    assert places == (["votes/vocabulary.py"] if english else [])
