"""Platform events <-> invocations. `handle` picks the adapter whose markers the event has.

Each adapter turns its platform's event into an HTTP request (method, path, query,
headers, body), answers it through the Function, and returns the platform's response
format. Only the detected platform's module is imported: cold start is the product.

>>> handler = dashboard.handler                   # AWS Lambda, FC 3.0, direct invocation
>>> from sff.adapters.gcp import entry            # Google Cloud Functions
>>> from sff.adapters.asgi import app             # any HTTP container (uvicorn)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sff.adapters._settings import configure

if TYPE_CHECKING:
    from sff.function import Function

__all__ = ["configure", "handle", "resident"]


def handle(fn: Function, event: Any, context: Any) -> dict[str, Any]:
    """Serve one platform event with `fn`, synchronously (FaaS handlers are sync)."""
    from sff.adapters import _detect
    from sff.errors import SffError

    try:
        parsed = _detect.parse(event)
        platform = _detect.platform_of(parsed)
    except SffError as exc:
        from sff.adapters import direct

        return direct.error(exc, context)
    module = importlib.import_module(f"sff.adapters.{platform}")
    answer: dict[str, Any] = module.handle_event(fn, parsed, context)
    return answer


def resident(on: bool = True) -> None:
    """Keep an event loop and a pooled HTTP client warm across invocations (or stop).

    The default is use-and-destroy: nothing of one invocation survives into the next.
    Same as env ``SFF_RESIDENT=1``."""
    from sff.adapters import runtime

    configure(resident=on)
    if not on:
        runtime.stop()
