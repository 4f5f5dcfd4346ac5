"""What a `sff serve` instance keeps and measures of its own: one fallback-cache store for
a resident instance's life (a hung Redis costs its timeout once, not on every invocation),
its own memory peak (not the parent's), and how many instances were starting at once
when it had its cold start."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx

from demo.backend import serve_in_thread
from tests.redis_server import running_redis
from tests.test_serve_support import make_project, running_gateway

CACHED = {
    "cached.py": """
        from sff import Backend, Fallback, Function

        api = Backend("api", env="API")

        cached = Function("cached", sources={
            "user": api.get("/users/1", fallback=Fallback.cache(max_stale="1h")),
        }, shape="user")
    """,
}
HUNG_WARNING = "serving misses"


def test_a_resident_instance_keeps_one_cache_store_so_a_hung_redis_warns_once(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "project", CACHED)
    with serve_in_thread() as backend, running_redis() as redis:
        env = {"API": backend, "SFF_CACHE_URL": redis.url}
        with running_gateway(project, tmp_path, "--model", "resident", env=env) as gw:
            first = httpx.get(f"{gw.url}/cached", timeout=60)
            redis.pause()
            try:
                hung = [httpx.get(f"{gw.url}/cached", timeout=60) for _ in range(5)]
            finally:
                redis.resume()
            log = gw.log()

    assert first.status_code == 200 and [a.status_code for a in hung] == [200] * 5
    assert len({a.headers["x-sff-instance"] for a in [first, *hung]}) == 1
    assert log.count(HUNG_WARNING) == 1, log


PARENT = """
    import asyncio, json, sys
    from sff.serve.instance import Instance, Spec

    ballast = bytearray(300 * 1024 * 1024)  # the parent's peak: 300 MB, touched
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    del ballast

    async def main():
        spec = Spec("hello", sys.argv[1], "functions.hello", "hello", 10.0)
        instance = await Instance.start(spec, once=False)
        reply = await instance.invoke({"input": {"name": "m"}, "headers": {},
                                       "request_id": "r1"})
        await instance.stop()
        print(json.dumps({"max_rss_kb": reply["max_rss_kb"], "status": reply["status"]}))

    asyncio.run(main())
"""


def test_max_memory_is_the_instances_own_peak_not_its_parents(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(PARENT))

    run = subprocess.run([sys.executable, str(script), str(project)], capture_output=True,
                         text=True, timeout=120, check=True)  # fmt: skip

    reply = __import__("json").loads(run.stdout.strip().splitlines()[-1])
    assert reply["status"] == 200
    assert 5 * 1024 < reply["max_rss_kb"] < 150 * 1024, reply  # well under the parent's 300 MB


def test_cold_starts_report_how_many_instances_started_at_once(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    with running_gateway(project, tmp_path, "--model", "destroy", "--max-instances", "4") as gw:
        async_get = [f"{gw.url}/nap?ms=50" for _ in range(4)]

        async def burst() -> list[httpx.Response]:
            import asyncio

            async with httpx.AsyncClient(timeout=60) as client:
                return await asyncio.gather(*(client.get(u) for u in async_get))

        import asyncio

        answers = asyncio.run(burst())
        stats = httpx.get(f"{gw.url}/_sff/stats", timeout=30).json()
        log = gw.log()

    assert [a.status_code for a in answers] == [200] * 4
    nap = stats["functions"]["nap"]
    assert nap["most_starting_at_once"] >= 2  # four requests at once: starts overlapped
    assert nap["avg_init_contended_ms"] is not None
    assert stats["host"]["cpus"] >= 1
    assert "Init Concurrency: " in log and " starting at once on " in log
