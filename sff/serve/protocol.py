"""What the gateway and a worker process say to each other: one JSON object per line.

The worker writes a *hello* once its function is imported (``ready`` true with the import
time, or false with the import error), then answers each *request* line with one *reply*
line. Only plain dicts cross the pipe, so both sides stay free of each other's imports.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict


class Hello(TypedDict, total=False):
    ready: bool
    pid: int
    import_ms: float
    error: str


class Call(TypedDict):
    input: Any
    headers: dict[str, str]
    request_id: str


class Reply(TypedDict, total=False):
    status: int
    headers: dict[str, str]
    body: str
    meta: dict[str, Any] | None
    duration_ms: float
    max_rss_kb: int


def encode(message: Any) -> bytes:
    return json.dumps(message, separators=(",", ":"), default=str).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError("a protocol message must be a JSON object")
    return message
