"""The fallback cache of one invocation: network-first, last good response per request.

Every successful response of a source that declares `Fallback.cache` is written (errors,
partial and oversize bodies never are, nor answers the backend marked ``no-store``, nor
``private`` ones under a shared key); it is read only when the source fails, within
``max_stale``, or before calling while it is younger than ``fresh`` (or, with
``fresh="backend"``, while the backend's headers say it is fresh: `sff.http.cached`).
The store is opened for the invocation and closed at its end (use-and-destroy), unless
one is passed in.

Keys come from `sff.cache.cache_key`: backend, method, canonical URL (query included),
every header actually sent except the request id and the forwarded headers the backend
declares ``shared_headers``, a hash of the body, and the source's identity (``identity=``,
JMESPath over ``{input, headers}``). So any credential sent, forwarded or templated, keys
the copy. A personal source without an identity is never cached: one user's data is never
another's fallback.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sff._jmes_values import fresh
from sff._record import record
from sff.errors import SffError, SourceError
from sff.spec import Backend, Fallback

if TYPE_CHECKING:
    from sff.cache import CacheEntry, CacheStore, SafeStore
    from sff.http.response import Request
    from sff.plan import Node, Plan

# Sent credentials always key the entry, declared or not: a token is an identity.
CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")
# Sent on every request but naming the request, not the caller: they never key a copy.
UNKEYED_HEADERS = frozenset({"x-request-id", "idempotency-key", "content-length"})

_settings_url: list[str | None] = []  # [tool.sff] cache, looked up once per process


def cache_step(node: Node) -> Fallback | None:
    """The source's `Fallback.cache` (from its chain, else its item chain), if any."""
    opts = node.source.options
    return next((f for f in (*opts.fallback, *opts.item_fallback) if f.kind == "cache"), None)


def needs_store(plan: Plan) -> bool:
    """A cache fallback or a circuit breaker somewhere in the plan."""
    for node in plan.nodes.values():
        backend = getattr(node.source, "backend", None)
        if cache_step(node) is not None or getattr(backend, "circuit", None) is not None:
            return True
    return False


def cache_url() -> str | None:
    """``$SFF_CACHE_URL``, else ``[tool.sff] cache``, else None (a file in the temp dir)."""
    from sff.cache import ENV_VAR

    if os.environ.get(ENV_VAR):
        return os.environ[ENV_VAR]
    if not _settings_url:
        _settings_url.append(_project_setting())
    return _settings_url[0]


def _project_setting() -> str | None:
    from pathlib import Path

    from sff.project import ProjectError, find_root, read_settings

    try:
        root = find_root()
        value = read_settings(root).get("cache")
    except (ProjectError, OSError):
        return None
    if not isinstance(value, str) or not value:
        return None
    if "://" not in value and not Path(value).is_absolute():
        return str(root / value)  # a relative file path is the project's
    return value


def safe(store: CacheStore | SafeStore) -> SafeStore:
    from sff.cache import SafeStore

    if isinstance(store, SafeStore):
        return store
    return SafeStore(store, label=type(store).__name__)


class SourceCache:
    """The store as one invocation uses it: keys, reads, and writes that finish by its end."""

    def __init__(
        self,
        store: SafeStore,
        *,
        owned: bool,
        input: Any,
        headers: Mapping[str, str],
    ) -> None:
        self.store = store
        self._owned = owned
        self._scope = {"input": input, "headers": {k.lower(): v for k, v in headers.items()}}
        self._writes: set[asyncio.Task[None]] = set()

    @classmethod
    def open(
        cls,
        plan: Plan,
        given: CacheStore | SafeStore | None,
        input: Any,
        headers: Mapping[str, str],
    ) -> SourceCache | None:
        """The invocation's cache: the given store, else one opened from settings when the
        plan needs one (nothing is imported or opened for a plan that does not)."""
        if given is not None:
            return cls(safe(given), owned=False, input=input, headers=headers)
        if not needs_store(plan):
            return None
        from sff.cache import open_store

        return cls(open_store(cache_url()), owned=True, input=input, headers=headers)

    def identity(self, node: Node) -> tuple[bool, str | None]:
        """(may this source be cached, whose data it is)."""
        opts = node.source.options
        if node.identity is None:
            return not opts.personal, None
        try:
            who = node.identity.search(self._scope)
        except SffError:
            return False, None
        if who is None or who == "":
            return False, None  # an identity that names nobody shares nothing
        return True, who if isinstance(who, str) else json.dumps(who, sort_keys=True)

    def http_key(self, node: Node, request: Request) -> str | None:
        """The key of the response to ``request`` (the lean send's or httpx's: the same key
        for the same request), or None when it must not be cached."""
        from sff.cache import cache_key
        from sff.http.response import sent

        ok, who = self.identity(node)
        backend = getattr(node.source, "backend", None)
        if not ok or backend is None:
            return None
        url, fields, content = sent(request)
        varying = keyed_headers(backend, fields)
        if content:  # a POST's answer depends on what was posted
            import hashlib  # here: only a cached POST needs it (OpenSSL, ~1 ms at import)

            varying["(body)"] = hashlib.sha256(content).hexdigest()
        return cache_key(backend.name, request.method, url, varying, who)

    def shared(self, node: Node, request: Request) -> bool:
        """Whether the key of ``request`` is one every caller shares: no identity, and no
        credential or caller's forwarded header in it (a ``private`` answer is never kept
        under such a key). A forwarded header declared in ``shared_headers`` is left out
        of the key, so it does not make the key a caller's own."""
        from sff.http.response import sent

        _, who = self.identity(node)
        backend = getattr(node.source, "backend", None)
        shared = set(getattr(backend, "shared_headers", ()))
        forwarded = [h for h in getattr(backend, "forward_headers", ()) if h not in shared]
        names = {name for name, _ in sent(request)[1]}
        return who is None and not any(
            h.lower() in names for h in (*CREDENTIAL_HEADERS, *forwarded)
        )

    def call_key(self, node: Node, args: Any) -> str | None:
        from sff.cache import cache_key

        ok, who = self.identity(node)
        if not ok:
            return None
        target = json.dumps(args, sort_keys=True, default=str)
        return cache_key(f"call:{node.name}", "CALL", "sff://call/", {"args": target}, who)

    async def read(self, key: str, within: float) -> CacheEntry | None:
        """The entry under ``key``, waiting no longer than ``within`` seconds."""
        if within <= 0:
            return None
        try:
            return await asyncio.wait_for(self.store.get_entry(key), within)
        except TimeoutError:
            return None

    def remember(
        self,
        key: str,
        status: int,
        body: bytes,
        step: Fallback,
        headers: Mapping[str, str] | None = None,
        *,
        shared: bool = False,
    ) -> None:
        """Write a good response in the background; `aclose` waits for it. ``headers``
        (the backend's caching headers) may forbid it (``no-store``, ``private`` on a
        shared key) and say how long it stays fresh."""
        from sff.cache import CacheEntry
        from sff.freshness import Stored, storable

        blank = not body or body.isspace()  # `not body.strip()`, which copies a body ending in "\n"
        if not 200 <= status < 300 or len(body) > step.max_bytes or blank:
            return
        if headers is not None and not storable(headers, shared=shared):
            return
        now = time.time()
        http = Stored.of(headers, now, shared=shared).encode() if headers else ""
        self._write(key, CacheEntry(status, body, now, http=http), step)

    def refresh(
        self, key: str, entry: CacheEntry, headers: Mapping[str, str], step: Fallback, shared: bool
    ) -> None:
        """A 304 said the stored copy is still good: store it again as new, with what
        the 304 says about freshness (and its validators, where it sends new ones)."""
        from sff.freshness import Stored

        old = Stored.decode(entry.http)
        merged = {"etag": old.etag or "", "last-modified": old.last_modified or "", **headers}
        self.remember(key, entry.status, entry.body, step, merged, shared=shared)

    def _write(self, key: str, entry: CacheEntry, step: Fallback) -> None:
        ttl = step.max_stale if step.max_stale else None
        task = asyncio.ensure_future(self.store.set_entry(key, entry, ttl))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def aclose(self, within: float) -> None:
        """Let pending writes finish (for at most ``within`` s), then close an owned store."""
        if self._writes:
            _, late = await asyncio.wait(set(self._writes), timeout=max(0.0, within))
            for task in late:
                task.cancel()
        if self._owned:
            await self.store.close()


def keyed_headers(backend: Backend, fields: list[tuple[str, str]]) -> dict[str, str]:
    """The sent headers that key a cached copy: all but the unkeyed and the shared ones;
    a repeated one's values joined (as httpx's ``Headers.get_list`` gives them)."""
    skip = UNKEYED_HEADERS | set(backend.shared_headers)
    values: dict[str, list[str]] = {}
    for name, value in fields:  # lower-cased names
        if name not in skip:
            values.setdefault(name, []).append(value)
    return {name: ", ".join(found) for name, found in values.items()}


def age_ok(entry: CacheEntry, limit: float | None) -> bool:
    return limit is None or entry.age_s() <= limit


@record(frozen=True)
class Rescue:
    """What stands in for a failed source (or item): which step, its data, its age."""

    kind: str  # cache | value | omit
    value: Any
    age_s: float | None = None


async def rescue(
    chain: tuple[Fallback, ...],
    error: SffError,
    *,
    cache: SourceCache | None,
    key: Callable[[], str | None],
    within: float,
) -> Rescue:
    """The first step of ``chain`` that gives data; else ``error``, saying why the cache
    could not stand in (so a 502 names the source, the cause and the stale copy)."""
    misses: list[str] = []
    for step in chain:
        if step.kind == "value":
            return Rescue("value", fresh(step.data))  # never the declared object itself
        if step.kind == "omit":
            return Rescue("omit", None)
        found = await _from_cache(step, cache, key, within)
        if isinstance(found, Rescue):
            return found
        misses.append(found)
    if misses and isinstance(error, SourceError):
        raise SourceError(
            error.source,
            f"{error.cause}; cache: {'; '.join(misses)}",
            status=error.upstream_status,
            excerpt=error.excerpt,
        ) from None
    raise error


async def _from_cache(
    step: Fallback, cache: SourceCache | None, key: Callable[[], str | None], within: float
) -> Rescue | str:
    """The cached copy as a `Rescue`, or why there is none."""
    if cache is None:
        return "no store"
    try:
        found = key()
    except SffError:
        found = None  # the request could not even be built (e.g. unfinished inputs)
    if found is None:
        return "not cacheable here"
    entry = await cache.read(found, within)
    if entry is None:
        return "no cached copy"
    age = entry.age_s()
    if not age_ok(entry, step.max_stale):
        return f"cached copy is {age:.0f} s old, past max_stale {step.max_stale:g} s"
    try:
        return Rescue("cache", json.loads(entry.body), age)
    except ValueError:
        return "cached copy is not JSON"
