"""The embedded default store: one SQLite file that every instance on a host shares.

A use-and-destroy instance keeps nothing in memory, but a file (for example under /tmp,
which a platform keeps between instances of one function) outlives it. WAL lets readers
go on while another process writes; a short busy timeout makes a locked file fail fast
instead of eating the invocation deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sff.cache.base import check_ttl

__all__ = ["SqliteStore"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sff_cache (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expires_at REAL  -- epoch seconds, NULL = never: processes compare it, so not monotonic
);
CREATE INDEX IF NOT EXISTS sff_cache_expires_at ON sff_cache (expires_at);
"""
_GET = "SELECT value FROM sff_cache WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)"
_GET_WITH_EXPIRY = "SELECT value, expires_at FROM sff_cache WHERE key = ?"
_UPSERT = (
    "INSERT INTO sff_cache (key, value, expires_at) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
)
_DELETE = "DELETE FROM sff_cache WHERE key = ?"
_PURGE = "DELETE FROM sff_cache WHERE expires_at <= ?"


class SqliteStore:
    """A cache table in a SQLite file; blocking calls run on one worker thread."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = 0.1) -> None:
        self.path = os.fspath(path)
        self._busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        # A private thread rather than the loop's default executor: a slow or locked file
        # must not starve getaddrinfo, which the HTTP client resolves backend hosts with.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sff-sqlite")

    async def _run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._on_thread, operation)

    def _on_thread(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            self._conn = self._connect()  # lazily, on the worker: opening the file blocks
        return operation(self._conn)

    def _connect(self) -> sqlite3.Connection:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        # Owner-only: cached bodies may be personal, and the default file sits in a
        # shared temp dir. SQLite gives its -wal and -shm files the same mode.
        private_file(self.path)
        for companion in (self.path + "-wal", self.path + "-shm"):
            if os.path.lexists(companion):
                private_file(companion, create=False)
        # isolation_level=None: statements autocommit; incr opens its own transaction.
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            _wal_mode(conn, self._busy_timeout_s)
            conn.execute("PRAGMA synchronous = NORMAL")  # a cache may lose its last write
            conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()  # a corrupt or locked file: try a fresh connection next call
            raise
        # Locked by another writer? Purging is housekeeping: it can wait for the next open.
        with contextlib.suppress(sqlite3.OperationalError):
            conn.execute(_PURGE, (time.time(),))
        return conn

    async def get(self, key: str) -> bytes | None:
        def get(conn: sqlite3.Connection) -> bytes | None:
            row = conn.execute(_GET, (key, time.time())).fetchone()
            return None if row is None else bytes(row[0])

        return await self._run(get)

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        check_ttl(ttl_s)

        def set_(conn: sqlite3.Connection) -> None:
            expires_at = None if ttl_s is None else time.time() + ttl_s
            conn.execute(_UPSERT, (key, bytes(value), expires_at))

        await self._run(set_)

    async def delete(self, key: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.execute(_DELETE, (key,))

        await self._run(delete)

    async def incr(self, key: str, ttl_s: float) -> int:
        check_ttl(ttl_s)
        return await self._run(lambda conn: _incr(conn, key, ttl_s))

    async def close(self) -> None:
        def close(conn: sqlite3.Connection | None) -> None:
            if conn is not None:
                conn.close()

        conn, self._conn = self._conn, None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, close, conn)
        self._executor.shutdown(wait=False)


class NotPrivate(PermissionError):
    """A cache file another local user could write (or one that is not ours): refused, as
    one planted there could serve forged answers or read cached personal ones."""


def private_file(path: str, *, create: bool = True) -> None:
    """Create ``path`` owner-only, or check that an existing one is private to us."""
    flags = os.O_RDWR | os.O_NOFOLLOW | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if os.path.islink(path):
            raise NotPrivate(f"cache file {path} is a symbolic link; refusing it") from None
        raise exc
    try:
        info = os.fstat(fd)
        if info.st_uid != os.geteuid():
            raise NotPrivate(
                f"cache file {path} is owned by uid {info.st_uid}, not this process's "
                f"uid {os.geteuid()}; refusing it"
            )
        if info.st_mode & 0o022:
            raise NotPrivate(
                f"cache file {path} is writable by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); refusing it"
            )
        if info.st_mode & 0o077:  # ours, but readable by others: make it private
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _incr(conn: sqlite3.Connection, key: str, ttl_s: float) -> int:
    # IMMEDIATE takes the write lock before reading, so two processes cannot both
    # read n and write n + 1.
    conn.execute("BEGIN IMMEDIATE")
    try:
        now = time.time()
        row = conn.execute(_GET_WITH_EXPIRY, (key,)).fetchone()
        if row is None or (row[1] is not None and row[1] <= now):
            count, expires_at = 1, now + ttl_s
        else:
            count, expires_at = int(row[0]) + 1, row[1]
        conn.execute(_UPSERT, (key, str(count).encode(), expires_at))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return count


def _wal_mode(conn: sqlite3.Connection, patience_s: float) -> None:
    """``PRAGMA journal_mode = WAL``, waiting as a busy timeout would. Setting the mode
    takes the file's lock, and while another instance is opening the same file SQLite
    answers "database is locked" at once instead of calling its busy handler."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.005)
