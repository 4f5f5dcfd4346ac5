"""The cache protocol, the stored entry format and the cache key.

Stores keep opaque bytes: the layer above decides what goes in them. `CacheEntry` is
the encoding the resilience layer uses for a last-good response, and `cache_key` turns
(backend, method, canonical URL, varying headers, identity) into a key that never
carries a token or a query secret in clear.
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = [
    "CacheDecodeError",
    "CacheEntry",
    "CacheStore",
    "cache_key",
    "check_ttl",
]


@runtime_checkable
class CacheStore(Protocol):
    """Async key/value storage of bytes with optional expiry, shared across instances."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl_s: float) -> int:
        """Add one to a counter and return it; a new counter expires after `ttl_s`.

        The expiry is fixed when the counter is created and not extended by later
        increments, so a failure count covers one window (a circuit breaker's).
        """
        ...

    async def close(self) -> None: ...


def check_ttl(ttl_s: float | None) -> None:
    """Reject a non-positive TTL the same way in every store (Redis refuses it)."""
    if ttl_s is not None and not ttl_s > 0:
        raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")


class CacheDecodeError(ValueError):
    """A cached value is not a `CacheEntry` this version wrote (corrupt or foreign)."""


# A NUL first byte keeps an entry from ever being mistaken for text such as JSON.
_MAGIC = b"\x00sffE"
_VERSION = 2  # 2 adds the backend's caching headers after the body; 1 is still read
# version, crc32 of the rest, status, stored_at, content-type length, body length
_HEADER = struct.Struct(">BIHdHI")
_HTTP_LEN = struct.Struct(">I")
_CHECKED_FROM = 5  # the checksum covers everything after version and checksum


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A last-good backend response as the fallback cache keeps it."""

    status: int
    body: bytes
    stored_at: float  # epoch seconds: instances on other hosts compare it
    content_type: str = "application/json"
    http: str = ""  # what the backend's caching headers said (`sff.freshness.Stored`)

    def age_s(self, now: float | None = None) -> float:
        """Seconds since the entry was stored (never negative under clock skew)."""
        return max(0.0, (time.time() if now is None else now) - self.stored_at)

    def encode(self) -> bytes:
        """The entry as one allocation: the checksum runs over the parts and one join
        copies the body once (concatenating held two copies beside it: measured, the
        write of an 8 MiB body peaked at 3.7x the body with its JSON, 2.7x now)."""
        ctype = self.content_type.encode("utf-8")
        http = self.http.encode("utf-8")
        head = struct.pack(">HdHI", self.status, self.stored_at, len(ctype), len(self.body))
        tail = _HTTP_LEN.pack(len(http)) + http
        crc = 0
        for part in (head, ctype, self.body, tail):
            crc = zlib.crc32(part, crc)
        return b"".join((_MAGIC, struct.pack(">BI", _VERSION, crc), head, ctype, self.body, tail))

    @classmethod
    def decode(cls, data: bytes) -> CacheEntry:
        """Parse `encode()` output; anything else raises `CacheDecodeError`."""
        start = len(_MAGIC) + _HEADER.size
        if not data.startswith(_MAGIC) or len(data) < start:
            raise CacheDecodeError("cached value is not an sff cache entry")
        version, crc, status, stored_at, ctype_len, body_len = _HEADER.unpack_from(
            data, len(_MAGIC)
        )
        if version not in (1, _VERSION):
            raise CacheDecodeError(f"cache entry version {version} is not {_VERSION}")
        checked = memoryview(data)[len(_MAGIC) + _CHECKED_FROM :]  # a view: no copy of the body
        end = start + ctype_len + body_len
        if zlib.crc32(checked) != crc or len(data) < end:
            raise CacheDecodeError("cache entry is truncated or corrupt")
        http = b""
        if version == _VERSION:
            if len(data) < end + _HTTP_LEN.size:
                raise CacheDecodeError("cache entry is truncated or corrupt")
            (http_len,) = _HTTP_LEN.unpack_from(data, end)
            http = data[end + _HTTP_LEN.size :]
            if len(http) != http_len:
                raise CacheDecodeError("cache entry is truncated or corrupt")
        elif len(data) != end:
            raise CacheDecodeError("cache entry is truncated or corrupt")
        try:
            ctype = data[start : start + ctype_len].decode("utf-8")
            text = http.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CacheDecodeError("cache entry text is not UTF-8") from exc
        return cls(status, data[start + ctype_len : end], stored_at, ctype, text)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop a default port and the fragment, sort the query.

    Parameters are sorted by name only: a stable sort keeps repeated names in their
    given order, which some APIs give meaning to.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    query = sorted(parse_qsl(parts.query, keep_blank_values=True), key=lambda kv: kv[0])
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query, quote_via=quote), ""))


def cache_key(
    backend: str,
    method: str,
    url: str,
    vary: Mapping[str, str],
    identity: str | None,
) -> str:
    """The key of one backend response: a hash, so no secret is ever stored in clear."""
    headers = sorted((name.lower(), value) for name, value in vary.items())
    # JSON keeps fields apart: no value can forge a separator and collide with another.
    material = json.dumps(
        ["v1", backend, method.upper(), canonical_url(url), headers, identity],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "sff:v1:" + hashlib.sha256(material.encode("utf-8")).hexdigest()
