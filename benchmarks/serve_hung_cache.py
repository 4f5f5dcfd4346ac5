"""``sff serve`` with its Redis fallback cache hung (SIGSTOP): p50 latency per process model.

``python -m benchmarks.serve_hung_cache [--requests N]``. A function with a cache fallback
is called N times in sequence, with Redis answering and then frozen. A resident instance
keeps one store, whose cool-down skips Redis after the first timeout; a destroy instance is
a new process each time, so every invocation pays the store's timeout once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from benchmarks._backend import ROOT, backend_process

FUNCTION = """from sff import Backend, Fallback, Function

api = Backend("api", env="API")
cached = Function("cached", sources={
    "user": api.get("/users/1", fallback=Fallback.cache(max_stale="1h")),
}, shape="user")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    try:
        yield proc, f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()


@contextmanager
def gateway(project: Path, model: str, env: dict[str, str]) -> Iterator[str]:
    out = project / f"serve-{model}.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sff.serve", "--root", str(project), "--port", "0",
             "--model", model],
            stdout=sink, stderr=subprocess.DEVNULL, cwd=ROOT, env={**os.environ, **env},
        )  # fmt: skip
    try:
        for _ in range(600):
            text = out.read_text()
            if "listening on " in text:
                yield text.split("listening on ")[1].split()[0]
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("sff serve did not start")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def p50(url: str, count: int) -> float:
    latencies = []
    with httpx.Client(timeout=60) as client:
        for _ in range(count):
            started = time.perf_counter()
            client.get(f"{url}/cached").raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
    return statistics.median(latencies)


def measure(model: str, count: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp, backend_process() as api, redis() as (proc, url):
        project = Path(tmp)
        (project / "functions").mkdir()
        (project / "functions" / "__init__.py").write_text("")
        (project / "functions" / "cached.py").write_text(FUNCTION)
        (project / "pyproject.toml").write_text("[tool.sff]\n")
        with gateway(project, model, {"API": api, "SFF_CACHE_URL": url}) as base:
            p50(base, 3)  # warm (resident) and fill the cache
            healthy = p50(base, count)
            proc.send_signal(signal.SIGSTOP)
            try:
                hung = p50(base, count)
            finally:
                proc.send_signal(signal.SIGCONT)
    return healthy, hung


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    print(f"{'model':<10} {'p50 ms (Redis up)':>18} {'p50 ms (Redis SIGSTOPped)':>26}")
    for model in ("resident", "destroy"):
        healthy, hung = measure(model, args.requests)
        print(f"{model:<10} {healthy:>18.1f} {hung:>26.1f}")


if __name__ == "__main__":
    main()
