"""Running a `batch=` source: chunks of item ids in turn, each split back to its items.

A chunk is one call of the source with `item` bound to the chunk, so it gets what any
call gets: the source's retries, its timeout, request dedup and its cache (a chunk's
answer is kept under the chunk's request, and a failed chunk tries that copy first).
Chunks run under the source's `concurrency`. An item a chunk did not answer for (the
chunk failed with no cached copy, or the response left it out) gets exactly what a
failed item of a plain `each` gets: its item fallback, else it counts against
`tolerate` (`Invocation.judge_items`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sff import batch, bounded
from sff.errors import InputError, SffError, SourceError
from sff.expr import join_key
from sff.fallback import Rescue

if TYPE_CHECKING:
    from sff.plan import Node
    from sff.result import SourceMeta
    from sff.run import Invocation


@dataclass
class _Answered:
    """What one item id ended with: its entry, or why there is none."""

    value: Any = None
    error: SffError | None = None
    stood_in: Rescue | None = None  # the chunk's cached copy answered for it


async def fetch(
    run: Invocation, node: Node, src: SourceMeta, items: list[Any], timeout: float | None
) -> list[Any]:
    """The source's value: one entry per item, in item order."""
    declared = node.source.options.batch
    assert declared is not None
    keys, distinct = batch.ids(node.name, items)
    answered: dict[str, _Answered] = {}
    chain = run_chain(node)

    async def one(_: int, chunk: list[Any]) -> None:
        context = {**run.context, "item": chunk}
        stood_in = None
        try:
            response = await run.fetch_one(node, context, src, timeout)
        except InputError:
            raise
        except SffError as exc:
            try:  # the chunk's own cached copy, if the source keeps one
                stood_in = await run.rescue(node, context, chain.chunk, exc)
            except SffError as final:
                answered.update((batch_key(i), _Answered(error=final)) for i in chunk)
                return
            response = stood_in.value
        by_key = batch.split(node.name, declared.key, response)
        for item in chunk:
            key = batch_key(item)
            if key in by_key:
                answered[key] = _Answered(by_key[key], stood_in=stood_in)
            else:
                missing = f"no entry with {declared.key} {key!r} in the batch response"
                answered[key] = _Answered(error=SourceError(node.name, missing))

    await bounded.in_turn(
        one, batch.chunks(distinct, declared.size), node.source.options.concurrency
    )
    return await _per_item(run, node, src, items, keys, answered, chain.item)


async def _per_item(
    run: Invocation,
    node: Node,
    src: SourceMeta,
    items: list[Any],
    keys: list[str],
    answered: dict[str, _Answered],
    chain: tuple[Any, ...],
) -> list[Any]:
    values: list[Any] = [None] * len(items)
    outcomes: list[Rescue | SffError | None] = [None] * len(items)
    causes: dict[int, str] = {}
    for index, key in enumerate(keys):
        got = answered[key]
        values[index] = got.value
        if got.stood_in is not None:  # a cached chunk: degraded (cache) like a cached item
            outcomes[index] = got.stood_in
            causes[index] = "its chunk failed; a cached copy stands in"
        if got.error is None:
            continue
        causes[index] = got.error.message
        try:
            context = {**run.context, "item": items[index]}
            outcomes[index] = found = await run.rescue(node, context, chain, got.error)
            values[index] = found.value
        except SffError as final:
            outcomes[index] = final
    run.judge_items(node, src, outcomes, causes)
    return values


@dataclass(frozen=True)
class _Chains:
    chunk: tuple[Any, ...]  # the cache steps: a chunk's copy is kept under its request
    item: tuple[Any, ...]  # the rest: values and omit, per item (no per-item copy exists)


def run_chain(node: Node) -> _Chains:
    from sff.run import item_chain

    steps = item_chain(node)
    return _Chains(
        tuple(s for s in steps if s.kind == "cache"), tuple(s for s in steps if s.kind != "cache")
    )


def batch_key(item: Any) -> str:
    key = join_key(item)
    assert key is not None  # `batch.ids` refused the items that have none
    return key
