"""Which functions and backends a test touches, found from declarations alone.

A Function's plan names every source; an HTTP source names its Backend and a `call()`
source may name another Function, whose backends count too.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from sff.function import Function
from sff.spec import Backend, CallSource, HttpSource


def functions_used(functions: Iterable[Function]) -> list[Function]:
    """The functions given plus every Function they `call()`, each once, callers first."""
    seen: dict[int, Function] = {}
    todo = list(functions)
    while todo:
        fn = todo.pop(0)
        if id(fn) in seen:
            continue
        seen[id(fn)] = fn
        for node in fn.plan.nodes.values():
            source = node.source
            if isinstance(source, CallSource) and isinstance(source.target, Function):
                todo.append(source.target)
    return list(seen.values())


def backends_of(functions: Iterable[Function]) -> dict[str, list[Backend]]:
    """Every Backend the functions (and the functions they call) use, by backend name."""
    found: dict[str, list[Backend]] = {}
    for fn in functions_used(functions):
        for node in fn.plan.nodes.values():
            if isinstance(node.source, HttpSource):
                same = found.setdefault(node.source.backend.name, [])
                if all(b is not node.source.backend for b in same):
                    same.append(node.source.backend)
    return found


def functions_in(namespace: dict[str, Any]) -> list[Function]:
    """The Functions bound to names in a module (e.g. the test module's imports)."""
    return [value for value in namespace.values() if isinstance(value, Function)]


def project_package(root: Path) -> str:
    """The functions package named by ``[tool.sff] functions`` in pyproject.toml."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as f:
            settings = tomllib.load(f).get("tool", {}).get("sff", {})
        return str(settings.get("functions", "functions"))
    return "functions"


def load_functions(root: Path | None = None, package: str | None = None) -> dict[str, Function]:
    """Import the project's functions package and every module in it; Functions by name."""
    root = (root or Path.cwd()).resolve()
    package = package or project_package(root)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    found: dict[str, Function] = {}
    for module in _modules(importlib.import_module(package)):
        for fn in functions_in(vars(module)):
            found.setdefault(fn.name, fn)
    return found


def _modules(package: ModuleType) -> list[ModuleType]:
    modules = [package]
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), package.__name__ + "."):
        modules.append(importlib.import_module(info.name))
    return modules
