"""Matrix cells that fail part of a source: one chunk of a `batch=` source, one page
(the second) of a `paginate=` source.

A cell names such a source as ``"<source>.chunk"`` or ``"<source>.page"`` in its failing
list. The part fails on every attempt (its retries too): the requests are told apart by
method, URL and body, so the first distinct request of a batched source (its first
chunk) and the second of a paginated one (page 2) answer the error, the rest answer
happy-path data. A part that is never requested (a single short page) fails nothing,
and the cell then only checks that the answer is sound.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from sff.function import Function

CHUNK, PAGE = "chunk", "page"
_NTH = {CHUNK: 0, PAGE: 1}  # which distinct request of the source fails


def cells(fn: Function) -> list[str]:
    """The part-failing cells of ``fn``: ``"<source>.chunk"`` / ``"<source>.page"``."""
    found = []
    for name in fn.plan.order:
        options = fn.plan.nodes[name].source.options
        if options.batch is not None:
            found.append(f"{name}.{CHUNK}")
        if options.paginate is not None:
            found.append(f"{name}.{PAGE}")
    return found


def source_of(failing: str) -> str:
    """The source a failing entry names (``"authors.chunk"`` -> ``"authors"``)."""
    name, _, part = failing.rpartition(".")
    return name if part in _NTH and name else failing


class Parts:
    """Which requests of the part-failing sources answer the error, and which did."""

    def __init__(self, failing: Iterable[str]) -> None:
        self.nth: dict[str, int] = {}
        for entry in failing:
            name, _, part = entry.rpartition(".")
            if name and part in _NTH:
                self.nth[name] = _NTH[part]
        self.seen: dict[str, list[tuple[str, str, bytes]]] = {}
        self.injected: set[str] = set()

    def fails(self, source: str, request: httpx.Request) -> bool:
        if source not in self.nth:
            return False
        which = (request.method, str(request.url), request.content)
        seen = self.seen.setdefault(source, [])
        if which not in seen:
            seen.append(which)
        if seen.index(which) != self.nth[source]:
            return False
        self.injected.add(source)
        return True
