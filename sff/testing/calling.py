"""Run a function under test and get its answer: the Result, or the SffError it raised."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

from sff.errors import SffError
from sff.function import Function
from sff.result import Result
from sff.testing.mock import active
from sff.testing.services import active_services

if TYPE_CHECKING:
    import httpx


async def ainvoke(
    fn: Function,
    input: object = None,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    client: httpx.AsyncClient | None = None,
) -> Result | SffError:
    """Invoke ``fn`` once against the active mocked backends. Both answers carry
    ``.status`` and ``.meta``; a `Result` has ``.data``, an `SffError` ``.code``."""
    mocks = active()
    if mocks is not None:
        mocks.use(fn)
    services = active_services()
    if services is not None:
        services.use(fn)
    try:
        return await fn.invoke(input, headers=headers, timeout=timeout, client=client)
    except SffError as exc:
        return exc


def invoke(
    fn: Function,
    input: object = None,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    client: httpx.AsyncClient | None = None,
) -> Result | SffError:
    """`ainvoke` for synchronous tests."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "invoke() runs its own event loop; in an async test use `await ainvoke(...)`"
        )
    coro = ainvoke(fn, input, headers=headers, timeout=timeout, client=client)
    return asyncio.run(coro)
