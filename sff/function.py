"""`Function`: the authoring facade that ties a declaration to execution and platforms.

Declaring one compiles every expression and builds the plan (pure, at import). Running it
imports the executor on first use, and `handler` hands platform events to the adapters.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from sff.errors import DeclarationError
from sff.fields import check_function, exposed_sources
from sff.plan import Plan, build_plan, check_names
from sff.shape import Shape, compile_shape
from sff.spec import Duration, Source, seconds

if TYPE_CHECKING:
    from sff.cache import CacheStore, SafeStore
    from sff.http.client import AnyClient
    from sff.result import Result


class Function:
    """An orchestration function: sources fanned out by an inferred plan, reshaped by
    `shape` into `contract`.

    >>> dashboard = Function("dashboard", input=Query, sources={...}, shape="{...}",
    ...                      contract=Dashboard)
    >>> handler = dashboard.handler        # the FaaS entry point
    >>> dashboard.run({"user_id": 1}).data  # or `await dashboard.invoke(...)`
    """

    def __init__(
        self,
        name: str,
        *,
        input: type[BaseModel] | None = None,
        sources: Mapping[str, Source] | None = None,
        shape: Any = None,
        contract: type[BaseModel] | None = None,
        timeout: Duration = 10,
        route: str | None = None,
        method: str = "GET",
        description: str | None = None,
        cache_control: str | None = None,
        show_backend_errors: bool = False,
        max_input_values: int = 20_000,
        max_input_bytes: int = 1024 * 1024,
    ) -> None:
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            raise DeclarationError(f"function name must be letters, digits, - or _: {name!r}")
        if input is not None and not (isinstance(input, type) and issubclass(input, BaseModel)):
            raise DeclarationError(f"function {name!r}: input must be a pydantic model class")
        self.name = name
        self.input = input
        self.sources: dict[str, Source] = dict(sources or {})
        self.timeout = seconds(timeout)
        self.route = route or f"/{name}"
        self.method = method.upper()
        self.description = description
        # None: computed from the sources (see `sff.answer`); a string replaces it
        if cache_control is not None and any(c in cache_control for c in "\r\n\0"):
            raise DeclarationError(f"function {name!r}: cache_control has a CR, LF or NUL")
        self.cache_control = cache_control
        # A 502's body carries the failed backend's error text only when asked: it may echo
        # what sff sent (redacted, but a backend's own secrets are not known to sff).
        self.show_backend_errors = show_backend_errors
        if max_input_values < 1 or max_input_bytes < 1:
            raise DeclarationError(f"function {name!r}: input bounds must be at least 1")
        # Parsing and validating input run in C holding the interpreter, so every other
        # request on the instance waits for them: bounded by size, as time cannot be.
        self.max_input_values = max_input_values
        self.max_input_bytes = max_input_bytes
        caller = sys._getframe(1)  # where it is declared: errors point into that call
        self.declared_at = (caller.f_code.co_filename, caller.f_lineno)
        try:
            self.plan: Plan = build_plan(name, self.sources)
            self.shape: Shape = compile_shape(name, shape, contract)
            check_names(name, "shape", self.shape.names, set(self.sources), self.shape.value)
            check_function(self)
            self.plan = replace(self.plan, exposed=exposed_sources(self))
        except DeclarationError as exc:
            from sff.location import locate  # parses the file, only when there is an error

            raise locate(exc, *self.declared_at) from None

    @property
    def contract(self) -> type[BaseModel] | None:
        return self.shape.contract

    async def invoke(
        self,
        input: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        request_id: str | None = None,
        client: AnyClient | None = None,
        cache: CacheStore | SafeStore | None = None,
        margin: float = 0.0,
    ) -> Result:
        """Run once. Raises an `SffError` (with `.status` and `.code`) when it cannot answer.
        ``timeout`` caps the invocation below the function's own (e.g. a platform's
        remaining time, of which ``margin`` seconds are kept back to answer). ``cache``
        is the fallback store to use (e.g. a resident
        instance's); without it one is opened from ``$SFF_CACHE_URL`` when needed."""
        from sff.run import invoke

        return await invoke(
            self,
            input,
            headers=headers,
            timeout=timeout,
            request_id=request_id,
            client=client,
            cache=cache,
            margin=margin,
        )

    def run(self, input: Any = None, **kwargs: Any) -> Result:
        """`invoke` for synchronous code and scripts."""
        import asyncio

        return asyncio.run(self.invoke(input, **kwargs))

    def handler(self, event: Any, context: Any = None) -> dict[str, Any]:
        """The FaaS entry point: ``handler(event, context)`` -> ``{statusCode, headers, body}``."""
        from sff.adapters import handle

        return handle(self, event, context)

    def __repr__(self) -> str:
        return f"<Function {self.name} sources={list(self.sources)}>"
