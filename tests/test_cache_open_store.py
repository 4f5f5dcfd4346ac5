"""open_store: a URL picks the store; configuration mistakes fail loudly, and early."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from sff.cache import (
    DEFAULT_FILE_NAME,
    ENV_VAR,
    MemoryStore,
    RedisStore,
    SafeStore,
    SqliteStore,
    mask_url,
    open_store,
)

ROOT = Path(__file__).resolve().parents[1]


def test_memory_url_opens_a_memory_store_wrapped_in_a_safe_store() -> None:
    store = open_store("memory://")
    assert isinstance(store, SafeStore)
    assert isinstance(store.inner, MemoryStore)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///var/cache/sff.sqlite3", "/var/cache/sff.sqlite3"),
        ("/var/cache/sff.sqlite3", "/var/cache/sff.sqlite3"),
        ("cache/sff.sqlite3", "cache/sff.sqlite3"),
    ],
)
def test_sqlite_urls_and_plain_paths_open_a_sqlite_file(url: str, path: str) -> None:
    inner = open_store(url).inner
    assert isinstance(inner, SqliteStore)
    assert inner.path == path


@pytest.mark.parametrize("url", ["redis://cache:6379/0", "rediss://:pw@cache:6380/2"])
def test_redis_urls_open_a_redis_store_without_connecting(url: str) -> None:
    assert isinstance(open_store(url).inner, RedisStore)  # "cache" does not even resolve


def test_no_url_takes_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "memory://")
    assert isinstance(open_store().inner, MemoryStore)


def test_no_url_and_no_environment_means_a_sqlite_file_in_the_temp_dir(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    inner = open_store(None).inner
    assert isinstance(inner, SqliteStore)
    assert inner.path == os.path.join(tempfile.gettempdir(), DEFAULT_FILE_NAME)


async def test_an_opened_sqlite_store_stores(tmp_path: Path) -> None:
    store = open_store(f"sqlite://{tmp_path}/cache.sqlite3")
    await store.set("k", b"v")
    assert await store.get("k") == b"v"
    await store.close()


@pytest.mark.parametrize("url", ["ftp://user:hunter2@host/x", "memcached://host:11211", ""])
def test_an_unknown_url_is_a_value_error_that_masks_the_password(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported cache URL") as caught:
        open_store(url)
    assert "hunter2" not in str(caught.value)
    assert mask_url(url) in str(caught.value)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:pw@h:6379/0", "redis://:***@h:6379/0"),
        ("rediss://user:pw@h/0", "rediss://user:***@h/0"),
        ("redis://h/0?password=pw&db=1", "redis://h/0?password=***&db=1"),
        ("redis://h:6379/0", "redis://h:6379/0"),
        ("redis://[::1/0", "redis://***"),  # unparseable: nothing but the scheme
    ],
)
def test_mask_url_hides_passwords(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_importing_the_cache_package_loads_neither_sqlite3_nor_redis() -> None:
    code = (
        "import sys, sff; before = set(sys.modules); import sff.cache; "
        "new = set(sys.modules) - before; "
        "print(sorted(m for m in new if m.split('.')[0] in ('sqlite3', '_sqlite3', 'redis')))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_a_redis_url_without_redis_py_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "redis" or m.startswith("redis.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "sff.cache.redis", raising=False)
    monkeypatch.setitem(sys.modules, "redis", None)  # makes `import redis` fail
    with pytest.raises(ImportError, match=r'pip install "serverless-for-frontend\[redis\]"'):
        open_store("redis://localhost:6379/0")
