"""A source's request in one invocation's context: method, base URL, path, query, headers, body.

The templates are filled here and nowhere else; `sff.http.fetch` hands the parts to httpx or
to the lean send (`sff.http.lean`), which build the same request from them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from sff import secrets
from sff.errors import SourceError
from sff.expr import Expr
from sff.plan import Node
from sff.spec import Backend, HttpSource

# method, base URL, path, query, headers, body: a source's request before it is built
Parts = tuple[str, str, str, list[tuple[str, str]], dict[str, str], bytes | None]


class Renderer:
    """Fills sources' request templates for one invocation (its incoming headers, its id)."""

    def __init__(self, incoming_headers: Mapping[str, str], request_id: str) -> None:
        self._incoming = {k.lower(): v for k, v in incoming_headers.items()}
        self._request_id = request_id
        self._bases: dict[Backend, str] = {}

    def parts(self, node: Node, source: HttpSource, context: Mapping[str, Any]) -> Parts:
        """The parts of the source's request in ``context``; httpx or `sff.http.lean` builds it."""
        assert node.request is not None
        try:
            path = node.request.path.render(context, encode_segment)
            query = query_params(node.request.query.render(context))
            headers = self.headers(source, node.request.headers.render(context))
            if node.request.idempotency_key is not None:
                key = node.request.idempotency_key.search(context)
                headers["idempotency-key"] = scalar_text(key, "idempotency_key")
            body = None if node.request.body is None else node.request.body.render(context)
            content = None
            if body is not None:
                content = json.dumps(body, separators=(",", ":")).encode()
                headers["content-type"] = "application/json"
            base = self.base_url(node.name, source.backend)
        except ValueError as exc:
            raise SourceError(node.name, str(exc)) from None
        secrets.note_request(source.backend, base, query, headers)
        return source.method, base, path, query, headers, content

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
        headers = dict(backend.headers)
        for name in backend.forward_headers:
            if name in self._incoming:
                headers[name] = self._incoming[name]
        for name, value in rendered.items():
            if value is not None:
                text = scalar_text(value, f"header {name!r}")
                if not text.isascii():
                    raise ValueError(f"header {name!r} is not ASCII text")
                if "\r" in text or "\n" in text or "\0" in text:  # would start a new header
                    raise ValueError(f"header {name!r} contains a CR, LF or NUL character")
                headers[name] = text
        headers.setdefault("x-request-id", self._request_id)
        return headers


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
    if isinstance(value, str | int | float):
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
