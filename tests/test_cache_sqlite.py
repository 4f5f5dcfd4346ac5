"""The SQLite store on a real file: corrupt, locked, shared by two processes."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sff.cache import open_store
from sff.cache.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[1]


def cache_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "sff.cache" and r.levelno == logging.WARNING]


def run_python(code: str) -> str:
    """Run `code` in a fresh interpreter (another process, as another instance would be)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    return done.stdout


async def test_the_file_uses_the_wal_journal(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    store = SqliteStore(path)
    await store.set("k", b"v")
    await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_the_cache_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "cache.sqlite3")
    await store.set("k", b"personal data")
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    await store.close()
    assert modes == {"cache.sqlite3": 0o600, "cache.sqlite3-wal": 0o600, "cache.sqlite3-shm": 0o600}


async def test_a_missing_parent_directory_is_created(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a" / "b" / "cache.sqlite3")
    await store.set("k", b"v")
    assert await store.get("k") == b"v"
    await store.close()


async def test_a_corrupt_file_gives_misses_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is no database \x00\xff" * 512)
    store = open_store(f"sqlite://{path}", cooldown_s=0)  # no cool-down: every call tries
    for _ in range(3):
        assert await store.get("k") is None
        await store.set("k", b"secret-value")
        await store.delete("k")
        assert await store.incr("n", ttl_s=10) == 0
    await store.close()
    warnings = cache_warnings(caplog)
    assert len(warnings) == 1
    assert "DatabaseError" in warnings[0].getMessage()
    assert "secret-value" not in caplog.text


async def test_a_locked_file_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    store = SqliteStore(path, busy_timeout_s=0.05)
    await store.set("k", b"v")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process mid-write, holding the lock
    try:
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await store.set("k", b"new")
        assert time.monotonic() - started < 0.25
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await store.close()


async def test_a_locked_file_answers_without_exception_and_still_reads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cache.sqlite3"
    store = open_store(str(path), cooldown_s=0)
    await store.set("k", b"v")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        await store.set("k", b"new")
        assert await store.incr("n", ttl_s=10) == 0
        assert time.monotonic() - started < 2 * store.timeout_s
        assert await store.get("k") == b"v"  # WAL: a writer's lock does not stop readers
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(cache_warnings(caplog)) == 1
    await store.set("k", b"new")  # lock released: writes go through again
    assert await store.get("k") == b"new"
    await store.close()


async def test_two_processes_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    store = SqliteStore(path)
    await store.set("from-parent", b"hello child")
    out = run_python(f"""
        import asyncio
        from sff.cache.sqlite import SqliteStore

        async def main():
            store = SqliteStore({str(path)!r})
            print((await store.get("from-parent")).decode())
            await store.set("from-child", b"hello parent")
            await store.close()

        asyncio.run(main())
    """)
    assert out.strip() == "hello child"
    assert await store.get("from-child") == b"hello parent"
    await store.close()


async def test_incr_is_atomic_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    code = f"""
        import asyncio, os, sys, time
        from sff.cache.sqlite import SqliteStore

        async def main():
            # A generous busy timeout: this test is about atomicity, not failing fast.
            store = SqliteStore({str(path)!r}, busy_timeout_s=10)
            await store.get("warm-up")
            # Start together: interpreter start-up would otherwise keep the runs apart.
            open(os.path.join({str(tmp_path)!r}, f"ready-{{os.getpid()}}"), "w").close()
            while len([f for f in os.listdir({str(tmp_path)!r}) if f.startswith("ready-")]) < 2:
                time.sleep(0.001)
            for _ in range(300):
                await store.incr("n", ttl_s=60)
            await store.close()

        asyncio.run(main())
    """
    await SqliteStore(path).close()  # create the file (and WAL) before the race
    await asyncio.gather(*(asyncio.to_thread(run_python, code) for _ in range(2)))
    store = SqliteStore(path)
    assert await store.get("n") == b"600"
    await store.close()


async def test_expired_rows_are_purged_when_a_store_opens(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    store = SqliteStore(path)
    await store.set("short", b"v", ttl_s=0.05)
    await store.set("long", b"v")
    await store.close()
    await asyncio.sleep(0.1)
    store = SqliteStore(path)
    await store.get("long")
    await store.close()
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT key FROM sff_cache")] == ["long"]


def test_one_store_serves_successive_event_loops(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "cache.sqlite3")
    asyncio.run(store.set("k", b"v"))  # a resident instance: one loop per invocation
    assert asyncio.run(store.get("k")) == b"v"
    asyncio.run(store.close())


def planted(path: Path, mode: int, uid: int | None = None) -> Path:
    """A cache file that someone else put there first, with a forged answer in it."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sff_cache (key TEXT PRIMARY KEY, value BLOB, expires_at REAL)")
        conn.execute("INSERT INTO sff_cache VALUES ('k', X'666f72676564', NULL)")
    os.chmod(path, mode)
    if uid is not None:
        os.chown(path, uid, -1)
    return path


@pytest.mark.parametrize(
    ("mode", "uid", "why"),
    [
        (0o666, 65534, "owned by uid 65534"),
        (0o600, 65534, "owned by uid 65534"),
        (0o666, None, "writable by group or others"),
        (0o620, None, "writable by group or others"),
    ],
)
async def test_a_file_another_user_could_write_is_refused_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, mode: int, uid: int | None, why: str
) -> None:
    path = planted(tmp_path / "cache.sqlite3", mode, uid)
    store = open_store(f"sqlite://{path}")
    assert await store.get("k") is None  # the forged answer is never read
    await store.set("k", b"personal data")  # and nothing of ours is written to it
    await store.close()
    warnings = cache_warnings(caplog)
    assert len(warnings) == 1 and why in warnings[0].getMessage()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM sff_cache").fetchall() == [(b"forged",)]


async def test_a_symlinked_cache_file_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = planted(tmp_path / "elsewhere.sqlite3", 0o600)
    (tmp_path / "cache.sqlite3").symlink_to(target)
    store = open_store(f"sqlite://{tmp_path / 'cache.sqlite3'}")
    assert await store.get("k") is None
    await store.close()
    assert "symbolic link" in cache_warnings(caplog)[0].getMessage()


async def test_our_own_file_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = planted(tmp_path / "cache.sqlite3", 0o644)
    store = SqliteStore(path)
    assert await store.get("k") == b"forged"  # ours: used, after closing it to others
    await store.close()
    assert path.stat().st_mode & 0o777 == 0o600


async def test_a_refused_file_still_serves_the_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sff import Backend, Fallback, Function
    from tests.echo_server import echo_server

    path = planted(tmp_path / "cache.sqlite3", 0o666, 65534)
    with echo_server() as server:
        api = Backend("api", default=server.url)
        fn = Function("f", sources={"me": api.get("/ok/me", fallback=Fallback.cache())})
        store = open_store(f"sqlite://{path}")
        result = await fn.invoke(cache=store)
        await store.close()
    assert result.data["me"]["path"] == "/ok/me"
    assert "refusing it" in cache_warnings(caplog)[0].getMessage()
