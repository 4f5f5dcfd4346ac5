"""httpx, imported without its command-line extra.

``httpx/__init__`` imports ``httpx._main`` (click, rich, pygments) whenever they are
installed, only to offer the ``httpx`` console command: ~10-15 ms of every cold start
for nothing an invocation uses. Marking that module absent while httpx initialises makes
httpx fall back to its stub ``main``; the marker is removed at once, so the real module
still imports for anyone who asks for it by name.
"""

from __future__ import annotations

import sys

if "httpx" not in sys.modules:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx
    finally:
        del sys.modules["httpx._main"]

import httpx

__all__ = ["httpx"]
