"""SafeStore over healthy and broken real stores (outages are in the sqlite/redis files)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from sff.cache import CacheEntry, CacheStore, MemoryStore, SafeStore
from sff.cache.sqlite import SqliteStore

ENTRY = CacheEntry(status=200, body=b'{"ok": true}', stored_at=time.time())


def cache_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "sff.cache" and r.levelno == logging.WARNING]


async def test_a_healthy_store_answers_through_the_wrapper() -> None:
    store: CacheStore = SafeStore(MemoryStore(), label="memory://")  # a store itself
    await store.set("k", b"v", ttl_s=10)
    assert await store.get("k") == b"v"
    assert await store.incr("n", ttl_s=10) == 1
    await store.delete("k")
    assert await store.get("k") is None


async def test_an_entry_round_trips_through_set_entry_and_get_entry() -> None:
    store = SafeStore(MemoryStore(), label="memory://")
    await store.set_entry("k", ENTRY)
    assert await store.get_entry("k") == ENTRY
    assert await store.get_entry("absent") is None


async def test_a_value_that_does_not_decode_is_a_miss_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = SafeStore(MemoryStore(), label="memory://")
    await store.set("k", b'{"token": "abc123"}')  # written by something else
    assert await store.get_entry("k") is None
    assert await store.get_entry("k") is None
    assert len(cache_warnings(caplog)) == 1
    assert "abc123" not in caplog.text
    # One bad value says nothing about the store: it is not put in cool-down.
    assert store.available
    assert await store.get("k") == b'{"token": "abc123"}'


async def test_a_wrong_ttl_is_the_callers_bug_and_raises() -> None:
    store = SafeStore(MemoryStore(), label="memory://")
    with pytest.raises(ValueError, match="ttl_s"):
        await store.set("k", b"v", ttl_s=0)
    with pytest.raises(ValueError, match="ttl_s"):
        await store.incr("n", ttl_s=-1)


async def test_a_closed_store_fails_quietly_and_closing_twice_is_harmless(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SafeStore(SqliteStore(tmp_path / "c.sqlite3"), label="sqlite", cooldown_s=0)
    await store.set("k", b"v")
    await store.close()
    assert await store.get("k") is None  # its worker thread is gone: a miss, not a crash
    await store.close()
    assert len(cache_warnings(caplog)) == 2  # one for the failed get, one for the close


async def test_failures_of_different_kinds_each_warn_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"garbage" * 1000)
    store = SafeStore(SqliteStore(path), label="sqlite", cooldown_s=0)
    await store.get("k")
    await store.get("k")
    await store.inner.close()
    await store.get("k")  # now a RuntimeError, not a DatabaseError
    await store.get("k")
    kinds = [r.getMessage().split("(")[1].split(":")[0] for r in cache_warnings(caplog)]
    assert kinds == ["DatabaseError", "RuntimeError"]
