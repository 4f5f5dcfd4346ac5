"""`batch=Batch(...)`: an `each` source sends its items in chunks to a batch endpoint.

Declaration and the pure part of the run: checking where `item` is used, chunking the
item ids, and splitting a batch response back to the items. The executor side (chunks in
turn, retries, fallbacks per chunk and per item) is `sff.batched`; nothing here does I/O,
so declaring a batched source costs no import.

Item ids and response keys meet as `join_on` keys do (`sff.expr.join_key`): a string is
itself, a number its plain decimal text, so the item ``1`` meets ``{"id": 1}``,
``{"id": 1.0}``, ``{"id": "1"}`` and the object key ``"1"``; ``"07"`` meets only ``"07"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sff.errors import DeclarationError, PlanError, SourceError
from sff.expr import join_key

if TYPE_CHECKING:
    from sff.plan import Request
    from sff.spec import Source


@dataclass(frozen=True)
class Batch:
    """Send an `each` source's items ``size`` at a time to a batch endpoint: in the
    source's templates `item` is then the chunk (an array of item ids), so
    ``query={"id": "item"}`` sends ``?id=1&id=2...`` and ``body={"ids": "item"}`` a JSON
    array. Each response is split back to the items by ``key``: an array of objects
    carrying ``key``, or an object keyed by id."""

    size: int = 50
    key: str = "id"

    def __post_init__(self) -> None:
        if type(self.size) is not int or self.size < 1:
            raise DeclarationError(f"Batch(size=) must be an integer >= 1, got {self.size!r}")
        if not isinstance(self.key, str) or not self.key:
            raise DeclarationError(f"Batch(key=) must be a field name, got {self.key!r}")


def check(function: str, name: str, source: Source, request: Request | None) -> None:
    """At declaration: a batch needs `each`, and its `item` (the chunk) in the query,
    body, headers or args, never in the path (one URL carries the whole chunk)."""
    batch = source.options.batch
    if batch is None:
        return
    where = f"function {function!r}, source {name!r}"
    if source.options.each is None:
        raise PlanError(f"{where}: batch= needs each= (the items to send in chunks)")
    if request is None:  # a call() source: its args carry the chunk
        return
    if "item" in request.path.names:
        raise PlanError(
            f"{where}: batch= sends a chunk of items in one request, so `item` cannot be "
            "in the path; put it in query= (e.g. query={'id': 'item'}) or body="
        )
    parts = (request.query, request.headers, request.body)
    if not any(p is not None and "item" in p.names for p in parts):
        raise PlanError(
            f"{where}: batch= needs `item` (the chunk of ids) in query= or body=, "
            "e.g. query={'id': 'item'}"
        )


def ids(name: str, items: Sequence[Any]) -> tuple[list[str], dict[str, Any]]:
    """Every item's key, and the distinct items by key in first-seen order: a repeated
    id is asked for once. An item that is not a string or number is the source's failure."""
    keys: list[str] = []
    distinct: dict[str, Any] = {}
    for index, item in enumerate(items):
        key = join_key(item)
        if key is None:
            raise SourceError(
                name,
                f"batch: item {index} is {_kind(item)}; a batched `each` gives ids "
                "(strings or numbers), e.g. each='comments[*].user_id'",
            )
        keys.append(key)
        distinct.setdefault(key, item)
    return keys, distinct


def chunks(distinct: Mapping[str, Any], size: int) -> list[list[Any]]:
    values = list(distinct.values())
    return [values[i : i + size] for i in range(0, len(values), size)]


def split(name: str, key: str, response: Any) -> dict[str, Any]:
    """A batch response by item key. An array must hold objects carrying ``key``; an
    object is keyed by id. Anything else is the source's failure, naming the key."""
    if isinstance(response, dict):
        return {k: v for k, v in response.items()}  # JSON object keys are strings already
    if not isinstance(response, list):
        raise SourceError(
            name,
            f"batch response is {_kind(response)}; expected an array of objects carrying "
            f"{key!r} or an object keyed by {key!r}",
        )
    found: dict[str, Any] = {}
    for index, entry in enumerate(response):
        value = entry.get(key) if isinstance(entry, dict) else None
        text = join_key(value)
        if text is None:
            what = "has no" if not isinstance(entry, dict) or key not in entry else "has a bad"
            raise SourceError(
                name, f"batch response item {index} {what} key {key!r} (a string or number)"
            )
        found.setdefault(text, entry)
    return found


def _kind(value: Any) -> str:
    from sff._jmes_values import kind

    found = kind(value)
    return "null" if found == "null" else f"an {found}" if found[0] in "aeiou" else f"a {found}"
