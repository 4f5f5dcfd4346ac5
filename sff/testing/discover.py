"""Which functions and backends a test touches, found from declarations alone.

A Function's plan names every source; an HTTP source names its Backend and a `call()`
source may name another Function, whose backends count too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
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


def load_functions(root: Path | None = None) -> dict[str, Function]:
    """The project's Functions by name, found as `sff list` finds them; a module that does
    not import is raised, since a test run cannot go on without it."""
    from sff.project import load_project

    project = load_project(root)
    if project.errors:
        raise project.errors[0].error
    return {found.name: found.function for found in project.functions}
