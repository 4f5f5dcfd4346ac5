"""What an invocation gives back: the data, its status, and meta about every source."""

from __future__ import annotations

import json
from dataclasses import field, fields
from typing import Any

from pydantic import BaseModel

from sff._record import record
from sff.errors import SffError

_RAW = frozenset({"response_headers", "item_responses"})  # references, not meta


@record
class SourceMeta:
    """What happened to one source in one invocation. Offsets are ms from its start."""

    name: str
    outcome: str = "pending"  # ok | skipped | degraded | failed | cancelled
    status: int | None = None
    attempts: int = 0
    start_ms: float | None = None
    end_ms: float | None = None
    items: int | None = None
    failed_items: int | None = None  # `each` items that failed (tolerated, or a fallback stood in)
    item_errors: list[dict[str, Any]] | None = None  # per failed item: index, cause, fallback
    pages: int | None = None  # pages a `paginate=` source fetched
    # fresh (served without calling) | revalidated (a 304 confirmed it) | stale (a fallback)
    cache: str | None = None
    degraded: str | None = None  # why a fallback stands in
    stale_s: float | None = None
    error: str | None = None
    excerpt: str | None = None  # the start of a failed backend's body, redacted
    cache_control: str | None = None  # what the backend's answer declared
    fresh_s: float | None = None  # how long the backend said it stays fresh, from now
    # a retried request's attempts, each {start_ms, end_ms, status?, error?} (invocation
    # offsets); only when some request of this source made more than one
    spans: list[dict[str, Any]] | None = None
    # The last answer's raw headers, and per `each` item its status and headers (only for
    # a source whose response an expression reads): `sff.http.exposed` makes them
    # `meta.<source>.headers` / `.items`. Never part of `to_dict` (meta, logs, the page).
    response_headers: Any = field(default=None, repr=False, compare=False)
    item_responses: list[Any] | None = field(default=None, repr=False, compare=False)

    @property
    def duration_ms(self) -> float | None:
        if self.start_ms is None or self.end_ms is None:
            return None
        return self.end_ms - self.start_ms

    def view(self) -> dict[str, Any]:
        """What expressions read as ``meta.<source>``."""
        return {
            "outcome": self.outcome,
            "degraded": self.outcome == "degraded",
            "reason": self.degraded,
            "stale_s": self.stale_s,
            "status": self.status,
        }

    def to_dict(self) -> dict[str, Any]:
        data = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in _RAW and getattr(self, f.name) is not None
        }
        for name in ("item_errors", "spans"):  # copies, as the rest is (immutable values)
            listed = getattr(self, name)
            if listed is not None:
                data[name] = [dict(e) for e in listed]
        if self.duration_ms is not None:
            data["duration_ms"] = round(self.duration_ms, 2)
        return data


@record
class Meta:
    function: str
    request_id: str
    duration_ms: float = 0.0
    sources: dict[str, SourceMeta] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    personal: bool = False  # a personal source, or a header forwarded: `private` answers
    cache_control: str | None = None  # the function's own, replacing the computed one

    @property
    def degraded(self) -> list[str]:
        return [n for n, s in self.sources.items() if s.outcome == "degraded"]

    def server_timing(self) -> str:
        """``Server-Timing``: one metric per source (duration, and cache use), then the total."""
        parts = []
        for name, src in self.sources.items():
            if src.duration_ms is None:
                continue
            label = src.cache or (src.outcome if src.outcome != "ok" else None)
            desc = f';desc="{label}"' if label else ""
            parts.append(f"{name};dur={src.duration_ms:.1f}{desc}")
        parts.append(f"total;dur={self.duration_ms:.1f}")
        return ", ".join(parts)

    def degraded_header(self) -> str:
        """``x-sff-degraded``: ``source;reason=cache;age=42`` per degraded source."""
        items = []
        for name in self.degraded:
            src = self.sources[name]
            age = f";age={round(src.stale_s)}" if src.stale_s is not None else ""
            items.append(f"{name};reason={src.degraded or 'fallback'}{age}")
        return ", ".join(items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "request_id": self.request_id,
            "duration_ms": round(self.duration_ms, 2),
            "degraded": self.degraded,
            "sources": {n: s.to_dict() for n, s in self.sources.items()},
            "plan": self.plan,
        }


@record
class Result:
    """A successful invocation: `data` is the contract instance (or plain JSON without one)."""

    data: Any
    meta: Meta
    status: int = 200
    _body: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def json(self) -> Any:
        return self.data.model_dump(mode="json") if isinstance(self.data, BaseModel) else self.data

    def body(self) -> bytes:
        if self._body is None:
            if isinstance(self.data, BaseModel):
                # straight to bytes: model_dump_json() is this decoded to text (then encoded)
                self._body = self.data.__pydantic_serializer__.to_json(self.data)
            else:
                self._body = _dumps(self.data, self.meta.function)
        return self._body

    def headers(self) -> dict[str, str]:
        return response_headers(self.meta, self.body())


def _dumps(data: Any, function: str) -> bytes:
    # allow_nan=False: a NaN or Infinity (a source's call() result, a Fallback.value, a
    # function without a contract) would otherwise leave as `NaN`, which is not JSON.
    try:
        return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:
        from sff.errors import ContractError

        raise ContractError(
            f"function {function!r}: the answer holds NaN or Infinity, which JSON cannot carry",
            function=function,
        ) from None


def response_headers(meta: Meta | None, body: bytes | None = None) -> dict[str, str]:
    """The answer's headers; without a ``body`` it is an error's (never to be cached)."""
    from sff import answer

    headers = {"content-type": "application/json"}
    headers["cache-control"] = answer.cache_control(meta, error=body is None)
    if body is not None:
        headers["etag"] = answer.etag(body)
    if meta is None:
        return headers
    headers["x-request-id"] = meta.request_id
    headers["server-timing"] = meta.server_timing()
    if meta.degraded:
        headers["x-sff-degraded"] = meta.degraded_header()
    return headers


def error_body(error: SffError, request_id: str | None = None) -> bytes:
    body = error.to_dict()
    if request_id:
        body["error"]["request_id"] = request_id
    return json.dumps(body, default=str).encode()
