"""Cache stores that outlive a use-and-destroy instance.

`open_store(url)` picks a store from a URL and wraps it so that it can never fail a
request::

    store = open_store("redis://cache:6379/0")   # many instances share one Redis
    store = open_store("sqlite:///tmp/sff.sqlite3")  # the embedded default: one file
    store = open_store("memory://")              # tests, resident instances
    store = open_store(None)                     # $SFF_CACHE_URL, else a file in the temp dir

sqlite3 and redis-py are imported only when a URL asks for them: cold start counts.
"""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sff.cache.base import CacheDecodeError, CacheEntry, CacheStore, cache_key, canonical_url
from sff.cache.memory import MemoryStore
from sff.cache.safe import SafeStore

if TYPE_CHECKING:
    from sff.cache.redis import RedisStore
    from sff.cache.sqlite import SqliteStore

__all__ = [
    "DEFAULT_FILE_NAME",
    "ENV_VAR",
    "CacheDecodeError",
    "CacheEntry",
    "CacheStore",
    "MemoryStore",
    "RedisStore",
    "SafeStore",
    "SqliteStore",
    "cache_key",
    "canonical_url",
    "default_url",
    "mask_url",
    "open_store",
]

ENV_VAR = "SFF_CACHE_URL"
DEFAULT_FILE_NAME = "sff-cache.sqlite3"


def default_url() -> str:
    """$SFF_CACHE_URL, else a SQLite file in the temp dir (/tmp outlives instances)."""
    return os.environ.get(ENV_VAR) or os.path.join(tempfile.gettempdir(), DEFAULT_FILE_NAME)


def open_store(
    url: str | None = None, *, timeout_s: float = 0.3, cooldown_s: float = 5.0
) -> SafeStore:
    """Open the store `url` names (see the module docstring), wrapped in a `SafeStore`.

    Nothing connects here: a store that is down fails (quietly) on first use. A URL
    that names no store, or a missing redis-py, raises now: that is configuration.
    """
    url = default_url() if url is None else url
    return SafeStore(
        _open_inner(url), label=mask_url(url), timeout_s=timeout_s, cooldown_s=cooldown_s
    )


def _open_inner(url: str) -> CacheStore:
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep and url:
        return _sqlite(url)  # a plain file path
    if scheme == "memory" and not rest:
        return MemoryStore()
    if scheme == "sqlite" and rest:
        return _sqlite(rest)  # sqlite:///abs/path keeps its leading slash
    if scheme in ("redis", "rediss"):
        from sff.cache.redis import RedisStore

        return RedisStore(url)
    raise ValueError(
        f"unsupported cache URL {mask_url(url)!r}: use memory://, sqlite:///path/to/file.sqlite3"
        " (or a plain file path), redis://host:port/db or rediss://host:port/db"
    )


def _sqlite(path: str) -> CacheStore:
    from sff.cache.sqlite import SqliteStore

    return SqliteStore(path)


def mask_url(url: str) -> str:
    """`url` with any password (in the authority or a `password=` query) replaced by ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:  # not parseable as a URL: show no more than its scheme
        return url.partition("://")[0] + "://***"
    in_query = any(name.lower() == "password" for name, _ in query)
    if password is None and not in_query:
        return url
    netloc = parts.netloc
    if password is not None:
        netloc = f"{parts.username or ''}:***@{netloc.rpartition('@')[2]}"
    if in_query:
        query = [(n, "***" if n.lower() == "password" else v) for n, v in query]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*")))


def __getattr__(name: str) -> object:
    # Store classes are importable from here without paying their imports up front.
    if name == "SqliteStore":
        from sff.cache.sqlite import SqliteStore

        return SqliteStore
    if name == "RedisStore":
        from sff.cache.redis import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
