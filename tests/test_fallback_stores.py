"""The fallback cache end to end over real stores: the store named by settings, opened
only when needed; a corrupt SQLite file or a Redis killed mid-run never fails a request."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.backend import serve_in_thread
from sff import Backend, Fallback, Function, Retry, SourceError
from tests.redis_server import RedisServer


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serve_in_thread() as url:
        yield url


def user_fn(base: str, *chain: Fallback) -> Function:
    # The fault header may also come forwarded, declared shared: then it does not split the
    # cached copy (a templated one that differs keys a copy of its own).
    api = Backend(
        "users",
        default=base,
        retry=Retry.none(),
        timeout=2,
        forward_headers=("x-demo-status",),
        shared_headers=("x-demo-status",),
    )
    source = api.get(
        "/users/{input.id}", headers={"x-demo-status": "input.fail"}, fallback=list(chain)
    )
    return Function("user", sources={"user": source}, shape="user")


async def test_the_store_named_by_sff_cache_url_outlives_the_invocation(
    base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFF_CACHE_URL", f"sqlite:///{tmp_path}/cache.sqlite3")
    fn = user_fn(base, Fallback.cache())
    good = await fn.invoke({"id": 1})
    down = await fn.invoke({"id": 1}, headers={"x-demo-status": "503"})
    assert down.data == good.data
    assert down.meta.sources["user"].degraded == "cache"
    assert (tmp_path / "cache.sqlite3").is_file()


async def test_a_corrupt_sqlite_file_never_fails_a_request(
    base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("SFF_CACHE_URL", str(path))
    fn = user_fn(base, Fallback.cache(), Fallback.value("spare"))
    up = await fn.invoke({"id": 1})
    assert up.data and up.meta.degraded == []
    down = await fn.invoke({"id": 1, "fail": "503"})
    assert down.data == "spare"
    assert down.meta.sources["user"].degraded == "value"


async def test_a_corrupt_sqlite_file_without_a_next_step_is_the_backend_502(
    base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"\x00garbage" * 500)
    monkeypatch.setenv("SFF_CACHE_URL", str(path))
    with pytest.raises(SourceError) as caught:
        await user_fn(base, Fallback.cache()).invoke({"id": 1, "fail": "503"})
    assert caught.value.source == "user" and "HTTP 503" in caught.value.message


async def test_killing_redis_mid_run_fails_no_request_whose_backend_is_up(
    base: str, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SFF_CACHE_URL", redis_server.url)
    fn = user_fn(base, Fallback.cache())
    answers = []
    for n in range(12):
        if n == 4:
            redis_server.kill()
        answers.append(await fn.invoke({"id": 1 + n % 3}))
    assert len(answers) == 12 and all(a.status == 200 and a.data for a in answers)
    assert all(a.meta.degraded == [] for a in answers)


async def test_a_function_without_a_cache_fallback_imports_no_store(base: str) -> None:
    script = f"""
import sys
from sff import Backend, Fallback, Function
api = Backend("users", default={base!r})
fn = Function("f", sources={{"u": api.get("/users/1", fallback=Fallback.value(None))}})
fn.run()
print(sorted(m for m in ("sqlite3", "redis", "sff.cache") if m in sys.modules))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout.strip().replace("'", '"')) == []


async def test_tool_sff_cache_names_the_store_when_the_environment_does_not(
    base: str, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.sff]\ncache = "var/cache.sqlite3"\n')
    (tmp_path / "var").mkdir()
    script = f"""
from sff import Backend, Fallback, Function
api = Backend("users", default={base!r})
fn = Function("f", sources={{"u": api.get("/users/1", fallback=Fallback.cache())}})
fn.run()
"""
    env = {k: v for k, v in __import__("os").environ.items() if k != "SFF_CACHE_URL"}
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, timeout=60, check=True)
    assert (tmp_path / "var" / "cache.sqlite3").is_file()
