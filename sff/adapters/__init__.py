"""Platform events <-> invocations. `handle` picks the adapter whose marker the event has.

Each adapter module turns its platform's event into a `Call` (input, headers, identity,
deadline) and a Result or SffError back into that platform's response format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sff.function import Function


def handle(fn: Function, event: Any, context: Any) -> dict[str, Any]:
    """Serve one platform event with `fn`, synchronously (FaaS handlers are sync)."""
    from sff.adapters import direct

    return direct.handle(fn, event, context)
