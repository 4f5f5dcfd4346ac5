"""The lean send: a plain-http request rendered straight to bytes, the answer read as bytes.

On a warm client most of a request's CPU went to httpx's client layer (URL parsing and
normalising, Headers and Request/Response objects, the send/auth/redirect layers): about
0.45 of 0.65 ms, against ~0.1 ms for the socket work itself. For the common case - plain
http, no redirects to follow, nothing patching httpcore - `sff.http.fetch` renders the request
here instead and sends it over `StreamTransport`'s connections, so keep-alive, the
per-origin cap, framing, the stale-connection retry and httpx's exception types are the
same code as on the httpx path.

What goes on the wire is what httpx would send: the same request target and the same
headers in the same order (the client's defaults, then the source's). Anything this
module does not reproduce exactly - a path httpx would re-encode or normalise, a header
it would refuse, a caller overriding the framing headers - makes `render` return None
and the request takes the httpx path, where it behaves (and fails) as before.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlencode, urlsplit

from sff.errors import SourceError
from sff.http._httpx import httpx
from sff.http.framing import Body, Origin
from sff.http.transport import StreamTransport

# httpx leaves these path characters as they are (its PATH_SAFE plus the unreserved set):
# printable ASCII but space " # < > ? ` { }. A path of only these is sent unchanged.
_PATH_SAFE = "".join(chr(i) for i in range(0x21, 0x7F) if chr(i) not in '"#<>?`{}')
_MAX_URL = 65536  # httpx refuses longer URLs
_DECODERS = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
_CODINGS = frozenset({b"gzip", b"deflate", b"identity"})
# A source setting one of these goes the httpx way: the lean send writes its own framing,
# and decodes only the codings above (httpx may decode more, e.g. br with brotli installed).
_HTTPX_ONLY = frozenset({"content-length", "transfer-encoding", "connection", "accept-encoding"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
Headers = list[tuple[bytes, bytes]]


class HasHeaders(Protocol):
    @property
    def raw(self) -> Headers: ...


@dataclass(frozen=True, slots=True)
class Prefix:
    """What a backend's base URL contributes to every request: origin, Host, path prefix."""

    origin: Origin
    host: bytes  # the Host header httpx derives (port left out when it is the default)
    url: str  # scheme://netloc, for keys and messages
    path: str


@dataclass(frozen=True, slots=True)
class LeanRequest:
    method: str
    url: str  # as httpx would print it; the in-flight dedup key uses it
    target: str  # path and query, as sent
    headers_key: tuple[tuple[str, str], ...]
    origin: Origin
    payload: bytes

    @property
    def path(self) -> str:
        """The decoded path, as ``httpx.URL.path`` gives it: for messages, never the query."""
        return unquote(self.target.partition("?")[0])


def prefix(base: str) -> Prefix | None:
    """The base URL's part of every request, or None when it is not plain http to a host."""
    try:
        url = httpx.URL(base)
    except httpx.InvalidURL:
        return None  # httpx refuses it again when it builds the request, with its message
    parts = urlsplit(base)
    if url.scheme != "http" or not url.host or parts.username or parts.password:
        return None
    if url.query or url.fragment or parts.path.rstrip(_PATH_SAFE):
        return None
    netloc = url.netloc
    return Prefix((url.host, url.port or 80), netloc, f"http://{netloc.decode()}", parts.path)


class LeanSender:
    """Renders and sends lean requests over one client's `StreamTransport`."""

    def __init__(self, transport: StreamTransport, defaults: HasHeaders) -> None:
        self._transport = transport
        # (lower-cased name, raw name, value): the client's headers, sent before the source's.
        self._defaults: list[tuple[str, bytes, bytes]] = []
        for name, value in defaults.raw:
            lower = name.decode().lower()
            if lower == "accept-encoding":
                value = _decodable(value)
            self._defaults.append((lower, name, value))

    def render(
        self,
        base: Prefix,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        content: bytes | None,
    ) -> LeanRequest | None:
        """The request as bytes, or None when only httpx can say exactly what it would send."""
        path = base.path + path
        if not path.startswith("/") or path.rstrip(_PATH_SAFE) or _has_dot_segment(path):
            return None
        target = f"{path}?{urlencode(_grouped(query))}" if query else path
        if len(base.url) + len(target) > _MAX_URL:
            return None
        ours = {name.lower() for name in headers}
        if ours & _HTTPX_ONLY:
            return None
        lines = [f"{method} {target} HTTP/1.1".encode()]
        if "host" not in ours:
            lines.append(b"Host: " + base.host)
        if content is None and method in _BODY_METHODS:
            lines.append(b"Content-Length: 0")
        lines += [raw + b": " + value for lower, raw, value in self._defaults if lower not in ours]
        try:
            for name, value in headers.items():
                line = name.encode("ascii") + b": " + value.encode("ascii")
                if b"\r" in line or b"\n" in line or b":" in line[: len(name)]:
                    return None
                lines.append(line)
        except UnicodeEncodeError:
            return None  # httpx refuses it, with the message the caller expects
        if content is not None:
            lines.append(b"Content-Length: %d" % len(content))
        payload = b"\r\n".join(lines) + b"\r\n\r\n" + (content or b"")
        key = tuple(sorted((name.lower(), value) for name, value in headers.items()))
        return LeanRequest(method, base.url + target, target, key, base.origin, payload)

    async def send(self, name: str, request: LeanRequest, limit: int) -> tuple[int, Headers, bytes]:
        """Status, raw headers and the decoded body (at most ``limit`` bytes).

        The caller bounds the whole exchange with one `asyncio.timeout`; connection
        failures raise httpx's transport exceptions, as on the httpx path.
        """
        transport, origin = self._transport, request.origin
        gate = transport.gate(origin)
        await gate.acquire()
        try:
            conn, status, headers, framing = await transport.exchange(
                origin, request.method, False, request.payload, {}
            )
        except BaseException:
            gate.release()
            raise
        body = Body(transport, origin, conn, gate, framing, None, None)
        try:
            return status, headers, await _read(name, request, body, headers, limit)
        finally:
            await body.aclose()  # after a full read: a no-op; otherwise the socket is dropped


def _decodable(accept: bytes) -> bytes:
    """The client's Accept-Encoding without the codings only httpx's extras decode."""
    kept = [t.strip() for t in accept.split(b",") if t.split(b";")[0].strip().lower() in _CODINGS]
    return b", ".join(kept) or b"identity"


def header(headers: Headers, name: bytes) -> str | None:
    """All values of ``name`` joined as httpx's ``Headers.get`` does, or None."""
    values = [value for key, value in headers if key.lower() == name]
    return b", ".join(values).decode("latin-1") if values else None


async def _read(name: str, request: LeanRequest, body: Body, headers: Headers, limit: int) -> bytes:
    declared = header(headers, b"content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise SourceError(name, f"response of {declared} bytes is over the {limit}-byte cap")
    decoders = _decoders(header(headers, b"content-encoding"))
    chunks, size = [], 0
    async for raw in body:
        chunk = _decode(name, request, decoders, raw)
        size += len(chunk)  # decoded, so a compressed bomb is capped too
        if size > limit:
            raise SourceError(name, f"response is over the {limit}-byte cap")
        chunks.append(chunk)
    if decoders:
        chunks.append(_decode(name, request, decoders, b"", final=True))
        if size + len(chunks[-1]) > limit:
            raise SourceError(name, f"response is over the {limit}-byte cap")
    return b"".join(chunks)


class _Inflate:
    """One content coding; 'deflate' may come with or without its zlib wrapper (as httpx)."""

    def __init__(self, coding: str) -> None:
        self.coding, self.first = coding, True
        self.inner = zlib.decompressobj(_DECODERS[coding])

    def feed(self, data: bytes) -> bytes:
        first, self.first = self.first, False
        try:
            return self.inner.decompress(data)
        except zlib.error:
            if not (first and self.coding == "deflate"):
                raise
            self.inner = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.inner.decompress(data)


def _decoders(encoding: str | None) -> list[_Inflate]:
    """Decoders for the codings applied, last applied first; unknown codings pass as httpx."""
    codings = [c.strip().lower() for c in (encoding or "").split(",")]
    return [_Inflate(c) for c in reversed(codings) if c in _DECODERS]


def _decode(
    name: str, request: LeanRequest, decoders: list[_Inflate], data: bytes, final: bool = False
) -> bytes:
    if not decoders:
        return data
    try:
        for decoder in decoders:
            data = decoder.feed(data) + (decoder.inner.flush() if final else b"")
    except zlib.error as exc:  # as httpx's DecodingError: not worth a retry
        where = f"{request.method} {request.path}"
        raise SourceError(name, f"{where}: DecodingError: {exc}") from None
    return data


def _grouped(query: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """httpx's QueryParams groups a repeated key's values at its first place; so do we."""
    groups: dict[str, list[str]] = {}
    for key, value in query:
        groups.setdefault(key, []).append(value)
    return [(key, value) for key, values in groups.items() for value in values]


def _has_dot_segment(path: str) -> bool:
    """httpx drops '.' and '..' segments; such a path is left to it."""
    return "." in path and not {".", ".."}.isdisjoint(path.split("/"))
