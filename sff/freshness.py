"""HTTP caching rules (RFC 9111) as sff applies them to backends' answers, and to its own.

Pure: header values in, decisions out. A malformed ``Cache-Control``, ``Age``, ``Expires``
or ``Date`` is treated as absent, never as an error; unknown directives are ignored.

- *Freshness* of a stored answer: ``s-maxage`` (for a copy shared between identities) or
  ``max-age``, minus ``Age``; else ``Expires`` minus ``Date``; ``no-cache`` means zero.
- *Storing*: ``no-store`` is never stored; ``private`` is never stored under a shared key.
- *Validators*: ``ETag`` and ``Last-Modified`` make a stale copy revalidatable with
  ``If-None-Match`` / ``If-Modified-Since``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from sff._record import record

# The response headers these rules read; the send path keeps only these.
HEADERS = ("cache-control", "age", "etag", "last-modified", "expires", "date")
_DIRECTIVE = re.compile(r'\s*([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,\s"]*))?\s*')
_SECONDS = re.compile(r"[0-9]{1,10}")


@record(frozen=True)  # not a slots dataclass: that one costs every cold start ~0.7 ms
class CacheControl:
    """The directives of a ``Cache-Control`` value that sff acts on."""

    max_age: int | None = None
    s_maxage: int | None = None
    no_store: bool = False
    no_cache: bool = False
    private: bool = False
    public: bool = False


def parse(value: str | None) -> CacheControl:
    """The directives of a ``Cache-Control`` value; what does not parse is left out."""
    if not value:
        return CacheControl()
    found: dict[str, str | None] = {}
    for item in value.split(","):
        match = _DIRECTIVE.fullmatch(item)
        if match is None:
            continue  # a malformed directive: ignored, the rest still counts
        name, arg = match.group(1).lower(), match.group(2)
        found.setdefault(name, arg.strip('"') if arg is not None else None)
    return CacheControl(
        max_age=_seconds(found.get("max-age")) if "max-age" in found else None,
        s_maxage=_seconds(found.get("s-maxage")) if "s-maxage" in found else None,
        no_store="no-store" in found,
        no_cache="no-cache" in found,
        private="private" in found,
        public="public" in found,
    )


def _seconds(arg: str | None) -> int | None:
    return int(arg) if arg is not None and _SECONDS.fullmatch(arg) else None


def age(value: str | None) -> int:
    """``Age`` in seconds; 0 when absent or malformed."""
    return int(value) if value and _SECONDS.fullmatch(value.strip()) else 0


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    from email.utils import parsedate_to_datetime  # only for the rare Expires answer

    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def lifetime(headers: Mapping[str, str], *, shared: bool) -> float | None:
    """Seconds the answer stays fresh from now, or None when the backend says nothing."""
    if not headers:  # the usual answer: none of the caching headers (every `each` item)
        return None
    cc = parse(headers.get("cache-control"))
    if cc.no_cache or cc.no_store:
        return 0.0
    declared = cc.s_maxage if shared and cc.s_maxage is not None else cc.max_age
    if declared is not None:
        return max(0.0, float(declared - age(headers.get("age"))))
    expires, date = _epoch(headers.get("expires")), _epoch(headers.get("date"))
    if headers.get("expires") is not None and expires is None:
        return 0.0  # an invalid Expires means already expired (RFC 9111 5.3)
    if expires is not None and date is not None:
        return max(0.0, expires - date - age(headers.get("age")))
    return None


def storable(headers: Mapping[str, str], *, shared: bool) -> bool:
    """May this answer be stored: never ``no-store``, never ``private`` under a shared key."""
    cc = parse(headers.get("cache-control"))
    return not (cc.no_store or (cc.private and shared))


@record(frozen=True)
class Stored:
    """What a stored copy remembers of the backend's caching headers."""

    fresh_until: float | None = None  # epoch seconds; None: the backend said nothing
    etag: str | None = None
    last_modified: str | None = None

    @classmethod
    def of(cls, headers: Mapping[str, str], stored_at: float, *, shared: bool) -> Stored:
        life = lifetime(headers, shared=shared)
        return cls(
            None if life is None else stored_at + life,
            headers.get("etag") or None,
            headers.get("last-modified") or None,
        )

    def encode(self) -> str:
        if self == Stored():
            return ""
        return json.dumps([self.fresh_until, self.etag, self.last_modified])

    @classmethod
    def decode(cls, text: str) -> Stored:
        """A copy's remembered headers; anything unreadable counts as nothing remembered."""
        if not text:
            return cls()
        try:
            until, etag, modified = json.loads(text)
        except (ValueError, TypeError):
            return cls()
        ok = isinstance(until, int | float) or until is None
        return cls(
            float(until) if ok and until is not None else None,
            etag if isinstance(etag, str) else None,
            modified if isinstance(modified, str) else None,
        )

    def fresh(self, now: float) -> bool:
        return self.fresh_until is not None and now < self.fresh_until

    def conditions(self) -> dict[str, str]:
        """The headers that ask the backend whether the copy is still good."""
        found = {}
        if self.etag:
            found["if-none-match"] = self.etag
        if self.last_modified:
            found["if-modified-since"] = self.last_modified
        return found
