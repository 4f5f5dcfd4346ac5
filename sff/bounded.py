"""Bounded work per invocation: `each` runs its items in turn, and expression evaluation
on large data leaves the event loop.

`in_turn` gives an `each` as many workers as its concurrency, taking items one by one, so a
long item list never becomes a task per item (and `max_items` refuses one past the bound).

JMESPath runs in Python, and on a large document (``sort_by``/``group_by`` over a 6 MB
input) one evaluation can hold the event loop for most of a second, so every other
request on a resident instance waits. Evaluations over a context of more than
`LARGE_NODES` JSON values therefore run on a small thread pool: Python switches threads
every few milliseconds, so the loop keeps answering others, and the evaluation is awaited
only until the invocation's deadline (then the answer is a 504 naming the stage, while the
thread finishes on its own). Small contexts, the common case, stay on the loop: a thread
hop costs more than their evaluation.

A request body over `LARGE_BODY` is parsed into the input on the same pool
(`parsed_input`), and an input of more than `LARGE_NODES` values is counted against
``max_input_values`` and validated there too (`checked_input`): the fronts that share one
loop across requests (the ASGI app, the `sff serve` gateway) keep answering others while
a 6 MB body is read. Parsing and validating JSON (``json``, pydantic) run in C and hold
the interpreter for as long as they run without calling back into Python (the JSON
reader calls back for each float), so those C stretches still delay the loop; the
request body cap and ``max_input_bytes`` bound them.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Awaitable, Callable
from itertools import compress, repeat
from typing import TYPE_CHECKING, Any, TypeVar

from sff.errors import DeadlineError, InputError

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from sff.function import Function
    from sff.inbound import HttpRequest

T = TypeVar("T")
_CONTAINERS = (dict, list)
LARGE_NODES = 20_000
LARGE_BYTES = 512 * 1024  # backend bodies received by one invocation
LARGE_BODY = 256 * 1024  # a request body parsed off the loop (a thread hop costs ~0.1 ms)
_pool: list[ThreadPoolExecutor] = []


def is_large(value: Any, limit: int = LARGE_NODES) -> bool:
    """Whether ``value`` holds more than ``limit`` JSON values; stops counting past it, so
    a large document costs ``limit`` steps to recognise and a small one a few."""
    if not isinstance(value, dict | list):
        return False
    stack: list[Any] = [value]
    seen = 0
    while stack:
        node = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        seen += len(children)
        if seen > limit:
            return True
        # only containers go on the stack, picked out in C (compress/map/isinstance): a flat
        # array of 200,000 ids costs a few milliseconds, not a Python step per id
        stack.extend(compress(children, map(isinstance, children, repeat(_CONTAINERS))))
    return False


def large_context(received_bytes: int, input: Any) -> bool:
    """Whether an invocation's data is large: by the bytes its backends sent (counted as
    they arrive) or by the size of its input (counted, up to the limit)."""
    return received_bytes > LARGE_BYTES or is_large(input)


def check_input(fn: Function, raw: Any) -> None:
    """A 400 for an input of more JSON values than the function allows, before any work
    (validating it runs in C and holds the interpreter: a size bound, not a time one)."""
    limit = getattr(fn, "max_input_values", LARGE_NODES)
    if is_large(raw, limit):
        raise InputError(
            f"invalid input: more than {limit} values, over max_input_values of "
            f"function {fn.name!r}",
            field="(input)",
            limit=limit,
        )


async def off_loop(work: Callable[[], T], large: bool) -> T:
    """``work()`` on the pool when ``large`` (no deadline yet: the request is still being
    read), else here; its exception raises here either way."""
    if not large:
        return work()
    run = functools.partial(contextvars.copy_context().run, work)
    return await asyncio.get_running_loop().run_in_executor(executor(), run)


async def parsed_input(request: HttpRequest) -> Any:
    """The request's input (`sff.inbound.to_input`), parsed on the pool when its body is
    over `LARGE_BODY`; a malformed body raises here as it would on the loop."""
    from sff import inbound

    return await off_loop(lambda: inbound.to_input(request), len(request.body) > LARGE_BODY)


async def checked_input(fn: Function, raw: Any, validate: Callable[[], T], within: float) -> T:
    """`check_input`, then ``validate()``: on the pool for an input of more than
    `LARGE_NODES` values (counting them to ``max_input_values`` is a Python walk), else
    here. Recognising a large input costs at most `LARGE_NODES` steps."""

    def work() -> T:
        check_input(fn, raw)
        return validate()

    return await evaluate(work, large=is_large(raw), within=within, function=fn.name,
                          stage="input")  # fmt: skip


def executor() -> ThreadPoolExecutor:
    # Its own threads, not the loop's default pool: getaddrinfo must not queue behind a
    # long evaluation. Two: the interpreter runs one Python thread at a time anyway.
    if not _pool:  # imported here: a small invocation never shapes off the loop
        from concurrent.futures import ThreadPoolExecutor

        _pool.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix="sff-shape"))
    return _pool[0]


async def evaluate(
    work: Callable[[], T], *, large: bool, within: float, function: str, stage: str
) -> T:
    """``work()`` on the loop when small, else on the pool for at most ``within`` s."""
    if not large:
        return work()
    if within <= 0:
        raise _late(function, stage)
    # the invocation's context (its secrets scope) goes along: errors made there redact
    run = functools.partial(contextvars.copy_context().run, work)
    future = asyncio.get_running_loop().run_in_executor(executor(), run)
    try:
        return await asyncio.wait_for(future, within)
    except TimeoutError:
        raise _late(function, stage) from None


def _late(function: str, stage: str) -> DeadlineError:
    return DeadlineError(
        f"function {function!r} ran out of time in {stage} (a large document)",
        unfinished=[stage],
    )


async def in_turn(
    one: Callable[[int, Any], Awaitable[None]], items: list[Any], concurrency: int
) -> None:
    """``one(index, item)`` for every item, at most ``concurrency`` at a time: that many
    workers take the next item when they are free, so no task waits for a turn."""
    pending = iter(enumerate(items))

    async def worker() -> None:
        for index, item in pending:  # shared: each item goes to exactly one worker
            await one(index, item)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(items)))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
