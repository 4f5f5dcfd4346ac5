"""A source's request in one invocation's context: method, base URL, path, query, headers, body.

The templates are filled here and nowhere else; `sff.http.fetch` hands the parts to httpx or
to the lean send (`sff.http.lean`), which build the same request from them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from sff import secrets
from sff.errors import InputError, SourceError
from sff.expr import Expr
from sff.http import fields
from sff.http.fields import FieldError
from sff.plan import Node, Request
from sff.spec import Backend, HttpSource

# method, base URL, path, query, headers, body: a source's request before it is built
Parts = tuple[str, str, str, list[tuple[str, str]], dict[str, str], bytes | None]


class Renderer:
    """Fills sources' request templates for one invocation (its incoming headers, its id)."""

    def __init__(self, incoming_headers: Mapping[str, str], request_id: str) -> None:
        self._incoming = {k.lower(): v for k, v in incoming_headers.items()}
        self._request_id = request_id
        self._bases: dict[Backend, str] = {}
        # a backend's static and forwarded headers, the same for every request (and every
        # `each` item) of this invocation: built once, checked at declaration / preflight
        self._backend_headers: dict[Backend, dict[str, str]] = {}
        # an `each` source's path and headers when they do not read `item`: rendered for
        # its first item only (the rest of the context is settled once the source starts)
        self._fixed: dict[str, _Fixed] = {}

    def preflight(self, sources: Iterable[tuple[str, Backend]]) -> None:
        """The request id and every forwarded header, checked before any source starts: a
        caller's value that cannot be sent fails the invocation before a backend is called."""
        try:
            check("x-request-id", self._request_id)
        except Unsendable as exc:
            raise InputError(f"invalid input: {exc}", field=exc.field) from None
        for source, backend in sources:
            try:
                for name in backend.forward_headers:
                    if name in self._incoming:
                        check(name, self._incoming[name])
            except Unsendable as exc:
                message = f"invalid input: source {source!r}: {exc}"
                raise InputError(message, source=source, field=exc.field) from None

    def parts(self, node: Node, source: HttpSource, context: Mapping[str, Any]) -> Parts:
        """The parts of the source's request in ``context``; httpx or `sff.http.lean` builds it.
        The headers are the caller's to read, never to change: an `each` item's may be the
        same dict as every other item's (`_Fixed`)."""
        request = node.request
        assert request is not None
        fixed = self._fixed.get(node.name) if node.each is not None else None
        try:
            if fixed is not None and fixed.path is not None:
                path = fixed.path
            else:
                path = request.path.render(context, encode_segment)
            query = query_params(request.query.render(context))
            if fixed is not None and fixed.headers is not None:
                headers = fixed.headers
            else:
                headers = self._headers(node, source, context)
            body = None if request.body is None else request.body.render(context)
            content = None
            if body is not None:
                content = _json_body(body)
                if fixed is None or fixed.headers is None:
                    headers["content-type"] = "application/json"
            base = self.base_url(node.name, source.backend)
        except Unsendable as exc:  # nothing is sent: the caller's value is the problem
            raise InputError(
                f"invalid input: source {node.name!r}: {exc}", source=node.name, field=exc.field
            ) from None
        except ValueError as exc:
            raise SourceError(node.name, str(exc)) from None
        if fixed is not None and fixed.headers is not None:  # its headers were noted once
            secrets.note_query(source.backend, query)
        else:
            secrets.note_request(source.backend, base, query, headers)
        if node.each is not None and fixed is None:
            self._fixed[node.name] = _Fixed.of(request, path, headers)
        return source.method, base, path, query, headers, content

    def _headers(
        self, node: Node, source: HttpSource, context: Mapping[str, Any]
    ) -> dict[str, str]:
        request = node.request
        assert request is not None
        rendered = request.headers.render(context)
        headers = self.headers(source, rendered)
        for name in rendered:  # the rest was checked once: declaration, preflight
            if name in headers:
                check(name, headers[name])
        if request.idempotency_key is not None:
            key = request.idempotency_key.search(context)
            headers["idempotency-key"] = scalar_text(key, "idempotency_key")
            check("idempotency-key", headers["idempotency-key"])
        return headers

    def base_url(self, name: str, backend: Backend) -> str:
        if backend not in self._bases:
            base = backend.base_url()
            if not base:
                raise SourceError(name, f"backend {backend.name!r} has no URL: set ${backend.env}")
            parts = urlsplit(base)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                given = f"${backend.env}" if backend.env and base != backend.default else "default="
                raise SourceError(name, f"backend {backend.name!r}: not an http(s) URL in {given}")
            self._bases[backend] = base.rstrip("/")
        return self._bases[backend]

    def headers(self, source: HttpSource, rendered: Mapping[str, Any]) -> dict[str, str]:
        backend = source.backend
        fixed = self._backend_headers.get(backend)
        if fixed is None:
            fixed = dict(backend.headers)
            for name in backend.forward_headers:
                if name in self._incoming:
                    fixed[name] = self._incoming[name]
            self._backend_headers[backend] = fixed
        headers = dict(fixed)
        for name, value in rendered.items():
            if value is not None:
                headers[name] = scalar_text(value, f"header {name!r}")
        headers.setdefault("x-request-id", self._request_id)
        return headers


class _Fixed:
    """What every item of an `each` source sends alike (None: it reads `item`). A plain
    class: a dataclass on the handler's path costs a cold start ~0.5 ms."""

    __slots__ = ("headers", "path")

    def __init__(self, path: str | None, headers: dict[str, str] | None) -> None:
        self.path, self.headers = path, headers

    @classmethod
    def of(cls, request: Request, path: str, headers: dict[str, str]) -> _Fixed:
        key, body = request.idempotency_key, request.body
        per_item = (
            "item" in request.headers.names
            or (key is not None and "item" in key.names)
            or (body is not None and "item" in body.names)  # null or not: its content-type
        )
        return cls(None if "item" in request.path.names else path, None if per_item else headers)


class Unsendable(ValueError):
    """An input value that cannot be put in a request: a 400 naming the field, never sent."""

    def __init__(self, field: str, message: str) -> None:
        ValueError.__init__(self, message)
        self.field = field


def check(name: str, value: str) -> None:
    """Every header sent passes RFC 9110's field checks; a failure names the header."""
    try:
        fields.check(name, value)
    except FieldError as exc:
        raise Unsendable(f"header {name!r}", str(exc)) from None


def _json_body(body: Any) -> bytes:
    """The body as JSON; NaN/Infinity (which JSON has not) or absurd nesting is a 400."""
    try:
        return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:
        raise Unsendable("body", "body holds NaN or Infinity, which JSON cannot carry") from None
    except RecursionError:
        raise Unsendable("body", "body is nested too deeply to send as JSON") from None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def encode_segment(expr: Expr, value: Any) -> str:
    """A path value becomes ONE segment: '/', '?', '#', '..' cannot leave it."""
    text = scalar_text(value, f"path placeholder {{{expr.text}}}")
    if text in ("", ".", ".."):
        if not text:
            raise ValueError(f"path placeholder {{{expr.text}}} is empty")
        return text.replace(".", "%2E")
    return quote(text, safe="")


def scalar_text(value: Any, what: str) -> str:
    if value is None:
        raise ValueError(f"{what} is null")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if not _encodable(value):
            raise Unsendable(what, f"{what} is not valid Unicode text (a lone surrogate)")
        return value
    if isinstance(value, int | float):
        if value != value or value in (math.inf, -math.inf):
            raise ValueError(f"{what} is {value}, which has no JSON or URL form")
        return str(value)
    raise ValueError(f"{what} must be a string or number, got {type(value).__name__}")


def query_params(rendered: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Null values are left out; arrays repeat the key."""
    params: list[tuple[str, str]] = []
    for key, value in rendered.items():
        for one in value if isinstance(value, list) else [value]:
            if one is not None:
                params.append((key, scalar_text(one, f"query {key!r}")))
    return params
