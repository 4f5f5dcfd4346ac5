"""5. Resident throughput: the 3-source page served under uvicorn, requests per second.

sff's ASGI adapter against hand-written Starlette endpoints doing the same calls over
one shared httpx client, or one shared aiohttp session, same uvicorn settings, loaded
on loopback by ``wrk`` (or `benchmarks._load` when wrk is absent). Also, without a
target, ``sff serve --model resident``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from benchmarks._backend import ROOT, backend_process
from benchmarks._common import Metrics, Report, Settings, Target, interleave, transpose

BENCH = "resident"
UVICORN = ["--loop", "asyncio", "--http", "h11", "--log-level", "warning", "--no-access-log"]
SFF_PROJECT = {
    "pyproject.toml": '[project]\nname = "bench"\n\n[tool.sff]\nfunctions = "functions"\n',
    "functions/__init__.py": "",
    "functions/page.py": "from benchmarks.apps.page_sff import page\n\n__all__ = ['page']\n",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(args: list[str], api: str, cwd: Path = ROOT) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "BENCH_API": api, "PYTHONPATH": str(ROOT)}
    command = [a.replace("{port}", str(port)) for a in args]
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}/page"
    try:
        wait_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_ready(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"server exited: {err[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as answer:
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} never answered 200")


def requests_per_second(url: str, connections: int, seconds: int) -> float:
    wrk = shutil.which("wrk")
    if wrk:
        command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", url]
    else:
        command = [sys.executable, "-m", "benchmarks._load", url, str(connections), str(seconds)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"load on {url} got errors:\n{out}")
    found = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if not found:
        raise RuntimeError(f"no Requests/sec in load output:\n{out}")
    return float(found.group(1))


def sff_serve_available() -> bool:
    from importlib.util import find_spec

    return find_spec("sff.serve") is not None


def run(settings: Settings) -> Report:
    report = Report()
    from importlib.util import find_spec

    missing = [m for m in ("uvicorn", "starlette", "aiohttp") if find_spec(m) is None]
    if missing:
        report.notes.append(f"resident: skipped, not installed: {', '.join(missing)} (bench extra)")
        return report
    seconds, connections = (1, 4) if settings.smoke else (5, 32)
    report.notes.append(
        f"resident: load generator {'wrk -t1' if shutil.which('wrk') else 'benchmarks._load'}, "
        f"{connections} connections, {seconds} s per sample; uvicorn {' '.join(UVICORN)}"
    )
    with contextlib.ExitStack() as stack:
        api = stack.enter_context(backend_process())
        py = [sys.executable, "-m", "uvicorn", "--port", "{port}", *UVICORN]
        urls = {
            "sff asgi": stack.enter_context(
                server([*py, "--factory", "benchmarks.apps.page_sff:asgi"], api)
            ),
            "starlette + httpx": stack.enter_context(
                server([*py, "benchmarks.apps.page_starlette:app"], api)
            ),
            "starlette + aiohttp": stack.enter_context(
                server([*py, "benchmarks.apps.page_starlette_aiohttp:app"], api)
            ),
        }
        if sff_serve_available():
            project = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            for name, text in SFF_PROJECT.items():
                (project / name).parent.mkdir(parents=True, exist_ok=True)
                (project / name).write_text(text)
            command = [sys.executable, "-m", "sff.cli", "serve", "--model", "resident"]
            command += ["--port", "{port}", "--root", str(project)]
            urls["sff serve --model resident"] = stack.enter_context(server(command, api, project))
        else:
            report.notes.append("resident: `sff serve` is not available; its row is skipped")

        def sample(url: str) -> Metrics:
            return {"rps": requests_per_second(url, connections, seconds)}

        runs = interleave(
            settings.reps if not settings.smoke else 1,
            {name: partial(sample, url) for name, url in urls.items()},
            warmup=0 if settings.smoke else 1,
        )
    stats = report.add(
        BENCH, "3-source page", "requests/s", transpose(runs, "rps"), "starlette + httpx"
    )
    # Throughput: higher is better, so the target is baseline / sff <= 1.0.
    ratio = stats["starlette + httpx"].median / stats["sff asgi"].median
    report.targets.append(Target("resident: starlette + httpx rps / sff asgi rps", ratio, 1.0))
    ratio = stats["starlette + aiohttp"].median / stats["sff asgi"].median
    report.targets.append(Target("resident: starlette + aiohttp rps / sff asgi rps", ratio, 1.0))
    return report
