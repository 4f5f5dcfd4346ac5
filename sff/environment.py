"""The environment a function needs: backend URL variables, checked before it runs.

A variable that is unset, or set to something that is not an http(s) URL, is a mistake
in the deployment, not an outage: the invocation answers 500 ``misconfigured`` naming the
variable, even when the source has a fallback that would otherwise hide it.

The listing of every variable a function reads (``sff check --env``) is tooling, in
`sff.variables`: an invocation never loads it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sff.errors import ConfigError
from sff.spec import Backend, CallSource, HttpSource

if TYPE_CHECKING:
    from sff.plan import Plan

_good: dict[tuple[int, str], bool] = {}  # (backend, URL) already found fine


def check_backends(plan: Plan, environ: Mapping[str, str] = os.environ) -> None:
    """Raise `ConfigError` for the first backend of ``plan`` without a usable URL."""
    for name, backend in _backends(plan):
        url = backend.base_url(environ)
        if url is None or not _good.get((id(backend), url)):
            problem = url_problem(backend, environ)
            if problem is not None:
                raise ConfigError(
                    f"function {plan.function!r}, source {name!r}: {problem}",
                    function=plan.function,
                    source=name,
                    backend=backend.name,
                    variable=backend.env,
                )
            _good[(id(backend), url or "")] = True


def url_problem(backend: Backend, environ: Mapping[str, str] = os.environ) -> str | None:
    """What is wrong with a backend's base URL, or None."""
    url = backend.base_url(environ)
    if not url:
        return f"backend {backend.name!r} has no URL: ${backend.env} is not set"
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    given = f"${backend.env}" if backend.env and url != backend.default else "default="
    return f"backend {backend.name!r}: {given} is not an http(s) URL"  # never echo the value


def _backends(plan: Plan, seen: set[int] | None = None) -> Iterator[tuple[str, Backend]]:
    """Every backend of the plan and of the Functions it calls: a called function's unset
    variable is as much a deployment mistake as our own, never its caller's outage."""
    from sff.function import Function

    seen = set() if seen is None else seen
    for name, node in plan.nodes.items():
        source = node.source
        if isinstance(source, HttpSource) and id(source.backend) not in seen:
            seen.add(id(source.backend))
            yield name, source.backend
        elif isinstance(source, CallSource) and isinstance(source.target, Function):
            inner = source.target.plan
            if id(inner) not in seen:
                seen.add(id(inner))
                yield from ((f"{name} ({n})", b) for n, b in _backends(inner, seen))
