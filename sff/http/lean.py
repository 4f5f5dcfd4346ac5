"""The lean send: a plain-http request rendered straight to bytes, the answer read as bytes.

On a warm client most of a request's CPU went to httpx's client layer (URL parsing and
normalising, Headers and Request/Response objects, the send/auth/redirect layers): about
0.45 of 0.65 ms, against ~0.1 ms for the socket work itself. For the common case - plain
http, no redirects to follow, nothing patching httpcore - `sff.http.fetch` renders the request
here instead and sends it over the connections of `sff.http.streams` (the pool under
`StreamTransport` too), so keep-alive, the per-origin cap, framing and the stale-connection
retry are the same code as on the httpx path, and its failures carry httpx's names
(`sff.http.faults`). httpx is not even imported for it: ~20 ms of a cold start.

What goes on the wire is what httpx would send: the same request target and the same
headers in the same order (the client's defaults, then the source's). Anything this
module does not reproduce exactly - a path httpx would re-encode or normalise, a header
it would refuse, a caller overriding the framing headers - makes `render` return None
and the request takes the httpx path, where it behaves (and fails) as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, unquote, urlsplit

from sff.http.decode import read, read_whole
from sff.http.fields import head, request_line
from sff.http.message import Headers
from sff.http.streams import Pool
from sff.http.wire import Body, Origin

if TYPE_CHECKING:
    from sff.http.send import Expiry

# httpx leaves these path characters as they are (its PATH_SAFE plus the unreserved set):
# printable ASCII but space " # < > ? ` { }. A path of only these is sent unchanged.
_PATH_SAFE = "".join(chr(i) for i in range(0x21, 0x7F) if chr(i) not in '"#<>?`{}')
_MAX_URL = 65536  # httpx refuses longer URLs
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")  # what `quote_plus` leaves as it is
# A source setting one of these goes the httpx way: the lean send writes its own framing.
_HTTPX_ONLY = frozenset({"content-length", "transfer-encoding", "connection", "accept-encoding"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_BLOCKS = 256  # header sets remembered per client
# lower-cased names, encoded fields, the dedup key
Block = tuple[frozenset[str], Headers, tuple[tuple[str, str], ...]]
HeadLines = tuple[bytes, tuple[tuple[str, str], ...], Headers]
"""A header set's encoded lines, its dedup key and its fields, as one request sends them."""
# A host of only these (unreserved) characters httpx sends as it is, lower-cased.
_HOST_SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~-"


# Plain slotted classes, not dataclasses: building a dataclass at import costs ~0.8 ms.
class Prefix:
    """What a backend's base URL contributes to every request: origin, Host, path prefix."""

    __slots__ = ("host", "origin", "path", "url")

    def __init__(self, origin: Origin, host: bytes, url: str, path: str) -> None:
        self.origin = origin
        self.host = host  # the Host header httpx derives (port left out when it is the default)
        self.url = url  # scheme://netloc, for keys and messages
        self.path = path


class LeanRequest:
    __slots__ = ("content", "fields", "headers_key", "method", "origin", "payload", "target", "url")

    def __init__(
        self,
        method: str,
        url: str,
        target: str,
        headers_key: tuple[tuple[str, str], ...],
        origin: Origin,
        payload: bytes,
        fields: Headers,
        content: bytes,
    ) -> None:
        self.method = method
        self.url = url  # as httpx would print it; the in-flight dedup key uses it
        self.target = target  # path and query, as sent
        self.headers_key = headers_key
        self.origin = origin
        self.payload = payload
        self.fields = fields  # the head's fields, as httpx's request.headers.raw would be
        self.content = content

    @property
    def path(self) -> str:
        """The decoded path, as ``httpx.URL.path`` gives it: for messages, never the query."""
        return unquote(self.target.partition("?")[0])

    def where(self) -> str:
        """Method and path, for a message (made only when one is)."""
        return f"{self.method} {self.path}"


def prefix(base: str) -> Prefix | None:
    """The base URL's part of every request, or None when it is not plain http to a host
    written as httpx would send it. The netloc is read by `urlsplit`, then taken only when
    httpx would make the same of it (lower-cased host, the default port left out); any
    other base URL (IPv6, IDNA, percent-encoding, odd ports) goes the httpx way, where
    httpx parses it, or refuses it with its own message."""
    if not (base.isascii() and base.isprintable()) or " " in base or "?" in base or "#" in base:
        return None
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    host, colon, port = parts.netloc.partition(":")
    if parts.scheme != "http" or not host or host.rstrip(_HOST_SAFE):  # no userinfo, no [v6]
        return None
    if (colon and not (port.isdigit() and int(port) <= 65535)) or not _ipv4(host):
        return None
    if parts.path.rstrip(_PATH_SAFE):
        return None
    number = int(port) if colon else 80
    netloc = host.lower() if number == 80 else f"{host.lower()}:{number}"
    return Prefix((host.lower(), number), netloc.encode(), f"http://{netloc}", parts.path)


def _ipv4(host: str) -> bool:
    """False for an address httpx would check and might refuse: leading zeros, octets
    over 255 (`ipaddress` is not imported for the few hosts that look like one)."""
    octets = host.split(".")
    if len(octets) != 4 or not all(octet.isdigit() for octet in octets):
        return True  # not what httpx checks as an IPv4 address
    return all(int(octet) <= 255 and str(int(octet)) == octet for octet in octets)


class LeanSender:
    """Renders and sends lean requests over one client's connections (`Pool`)."""

    def __init__(self, pool: Pool, defaults: Headers) -> None:
        self._pool = pool
        # (lower-cased name, raw name, value): the client's headers, sent before the source's.
        self._defaults = [(name.decode().lower(), name, value) for name, value in defaults]
        try:  # checked once here, so each request re-checks only the source's own headers
            head("GET", "/", [(name, value) for _, name, value in self._defaults])
            self._checked = True
        except ValueError:
            self._checked = False  # a client default that cannot be sent: httpx's path refuses it
        # a source's header set, encoded and checked once: every `each` item (and every
        # request of an invocation to one backend) usually sends the same one
        self._blocks: dict[tuple[tuple[str, str], ...], Block | None] = {}
        self._heads: dict[tuple[Any, ...], HeadLines | None] = {}
        self.expiry: Expiry | None = None  # the attempts' timeouts (`sff.http.send`)

    def _block(self, headers: Mapping[str, str]) -> Block | None:
        """The lower-cased names, the encoded fields (checked as `head` checks them) and
        the dedup key of a source's headers; None when only httpx may send them."""
        items = tuple(headers.items())
        if items in self._blocks:
            return self._blocks[items]
        ours = frozenset(name.lower() for name in headers)
        block: Block | None = None
        if not ours & _HTTPX_ONLY and self._checked:
            try:
                fields = [(n.encode("ascii"), v.encode("ascii")) for n, v in items]
            except UnicodeEncodeError:
                fields = None  # httpx refuses it, with the message the caller expects
            if fields is not None:
                head("GET", "/", fields)  # raises, saying why, for a field that cannot be sent
                key = tuple(sorted((name.lower(), value) for name, value in items))
                block = (ours, fields, key)
        if len(self._blocks) >= _BLOCKS:  # a resident client meets ever new request ids
            self._blocks.clear()
        self._blocks[items] = block
        return block

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
        if not _plain(path):
            return None
        target = f"{path}?{_encoded(query)}" if query else path
        if len(base.url) + len(target) > _MAX_URL:
            return None
        lines = self._lines(base, method, headers, content is None)
        if lines is None:
            return None
        fields, key, ready = lines
        if content is not None:
            fields += b"\r\nContent-Length: %d" % len(content)
            ready = [*ready, (b"Content-Length", b"%d" % len(content))]
        payload = request_line(method, target) + fields + b"\r\n\r\n" + (content or b"")
        url = base.url + target
        return LeanRequest(method, url, target, key, base.origin, payload, ready, content or b"")

    def _lines(
        self, base: Prefix, method: str, headers: Mapping[str, str], empty: bool
    ) -> HeadLines | None:
        """The header lines every such request sends (each after a CRLF), as `fields.head`
        writes them, the dedup key and the fields themselves (for the cache key); made once
        per header set (every `each` item usually sends the same). A body's Content-Length
        is the caller's to add."""
        memo = (base.url, method, empty, tuple(headers.items()))
        if memo in self._heads:
            return self._heads[memo]
        found = None
        block = self._block(headers)
        if block is not None:
            ours, fields, key = block
            ready: Headers = []  # made here or checked once: Host (from httpx's URL), defaults
            if "host" not in ours:
                ready.append((b"Host", base.host))
            if empty and method in _BODY_METHODS:
                ready.append((b"Content-Length", b"0"))
            ready += [(raw, value) for lower, raw, value in self._defaults if lower not in ours]
            ready += fields
            lines = b"".join(b"\r\n" + name + b": " + value for name, value in ready)
            found = lines, key, ready
        if len(self._heads) >= _BLOCKS:
            self._heads.clear()
        self._heads[memo] = found
        return found

    async def send(
        self, name: str, request: LeanRequest, limit: int
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, the header fields (see `joined`) and the decoded body (at most ``limit``
        bytes).

        The caller bounds the whole exchange with one `asyncio.timeout`; connection
        failures raise `sff.http.faults` (httpx's names, without httpx).
        """
        pool, origin = self._pool, request.origin
        gate = pool.gate(origin)
        await gate.acquire()
        try:
            conn, message = await pool.exchange(origin, request.method, False, request.payload, {})
        except BaseException:
            gate.release()
            raise
        body = Body(pool, origin, conn, gate, message, None)
        status = message.status  # read before the connection may go back to the pool
        try:
            found = joined(message.headers)  # the decoder reads its length and coding
            where = request.where  # a bound method, not a closure made per request
            if message.done:  # the whole answer came with its head: no stream to read
                data = read_whole(name, where, message.take(), found, limit)
                body.finish(message.keep and not message.extra)
            else:
                data = await read(name, where, body, found, limit)
            return status, found, data
        finally:
            await body.aclose()  # after a full read: a no-op; otherwise the socket is dropped


def joined(headers: Headers) -> dict[str, str]:
    """Every field by lower-cased name, its values joined as `header` joins them: one pass
    over the head for all the names a caller looks up (per request, so per `each` item);
    the values joined as httpx's ``Headers.get`` joins them."""
    found = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in headers}
    if len(found) == len(headers):  # no name twice (the usual answer): nothing to join
        return found
    values: dict[str, list[bytes]] = {}
    for key, value in headers:
        values.setdefault(key.decode("latin-1").lower(), []).append(value)
    return {k: b", ".join(v).decode("latin-1") for k, v in values.items()}


def _encoded(query: list[tuple[str, str]]) -> str:
    """``urlencode(_grouped(query))``, without quoting what needs none (every `each` item
    encodes its query: the key and a plain value are usually all there is)."""
    return "&".join(
        f"{_quoted(key)}={value if _UNRESERVED.fullmatch(value) else quote_plus(value)}"
        for key, value in (query if len(query) == 1 else _grouped(query))
    )


@lru_cache(maxsize=1024)
def _quoted(key: str) -> str:
    return quote_plus(key)


def _grouped(query: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """httpx's QueryParams groups a repeated key's values at its first place; so do we."""
    groups: dict[str, list[str]] = {}
    for key, value in query:
        groups.setdefault(key, []).append(value)
    return [(key, value) for key, values in groups.items() for value in values]


@lru_cache(maxsize=1024)
def _plain(path: str) -> bool:
    """A path httpx sends as it is (cached: every `each` item's path is often the same)."""
    return path.startswith("/") and not path.rstrip(_PATH_SAFE) and not _has_dot_segment(path)


def _has_dot_segment(path: str) -> bool:
    """httpx drops '.' and '..' segments; such a path is left to it."""
    return "." in path and not {".", ".."}.isdisjoint(path.split("/"))
