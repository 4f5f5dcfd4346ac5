"""Every environment variable a function reads, and its state: the listing behind
``sff check --env``. Tooling only, so apart from `sff.environment` (which an invocation
loads to check its backends' URLs before it runs)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sff.environment import url_problem
from sff.spec import Backend, CallSource, HttpSource

if TYPE_CHECKING:
    from sff.function import Function


@dataclass(frozen=True)
class Variable:
    """One environment variable a function reads, and what reads it."""

    name: str
    backend: str
    sources: tuple[str, ...]
    state: str  # set | unset | unset, the default URL is used | set, not an http(s) URL
    ok: bool


def needed(fn: Function, environ: Mapping[str, str] = os.environ) -> list[Variable]:
    """Every backend URL variable ``fn`` (and the functions it calls) reads."""
    from sff.function import Function as Fn

    found: dict[str, tuple[Backend, list[str]]] = {}
    todo, done = [fn], set()
    while todo:
        each = todo.pop()
        if id(each) in done:
            continue
        done.add(id(each))
        for name, node in each.plan.nodes.items():
            source = node.source
            if isinstance(source, HttpSource) and source.backend.env:
                entry = found.setdefault(source.backend.env, (source.backend, []))
                entry[1].append(name if each is fn else f"{each.name}.{name}")
            elif isinstance(source, CallSource) and isinstance(source.target, Fn):
                todo.append(source.target)
    return [
        Variable(var, b.name, tuple(srcs), *_state(var, b, environ))
        for var, (b, srcs) in sorted(found.items())
    ]


def _state(variable: str, backend: Backend, environ: Mapping[str, str]) -> tuple[str, bool]:
    problem = url_problem(backend, environ)
    if environ.get(variable):
        return ("set", True) if problem is None else ("set, not an http(s) URL", False)
    if backend.default and problem is None:
        return "unset, the default URL is used", True
    return "unset", False
