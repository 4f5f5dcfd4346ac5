"""Helpers for the `sff serve` tests (no tests here): a gateway in its own process on a
free port, a small project on disk, and the tool check that skips locally but fails in CI."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT_S = 60.0

FUNCTIONS = {
    "hello.py": """
        from sff import Function, call

        async def greet(name):
            return {"greeting": f"hello {name}"}

        hello = Function("hello", sources={"greet": call(greet, {"name": "input.name"})},
                         shape="greet")
    """,
    "nap.py": """
        import asyncio

        from sff import Function, call

        async def sleep(ms):
            await asyncio.sleep(int(ms or 0) / 1000)
            return {"slept_ms": int(ms or 0)}

        nap = Function("nap", sources={"sleep": call(sleep, {"ms": "input.ms"})},
                       shape="sleep")
    """,
    "crashy.py": """
        import os

        from sff import Function, call

        async def maybe_die(how):
            if how == "crash":
                os._exit(3)
            return {"alive": True}

        crashy = Function("crashy", sources={"run": call(maybe_die, {"how": "input.how"})},
                          shape="run")
    """,
    "broken.py": """
        raise RuntimeError("this module is broken on purpose")
    """,
}


def make_project(root: Path, functions: dict[str, str] = FUNCTIONS) -> Path:
    (root / "functions").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "demo"\n\n[tool.sff]\n')
    (root / "functions" / "__init__.py").write_text("")
    for name, source in functions.items():
        (root / "functions" / name).write_text(textwrap.dedent(source))
    return root


@dataclass
class Running:
    url: str
    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    def stop(self) -> str:
        """SIGTERM, as a platform or Ctrl-C would; the output up to the exit summary."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.out.read_text()

    def log(self) -> str:
        return self.out.read_text() + self.err.read_text()


@contextmanager
def running_gateway(
    root: Path,
    logs: Path,
    *args: str,
    env: dict[str, str] | None = None,
    max_files: int | None = None,
) -> Iterator[Running]:
    """``python -m sff.serve`` on a free loopback port, until the block ends; ``max_files``
    lowers its RLIMIT_NOFILE (soft and hard), as a small container would."""
    out, err = logs / "serve.out", logs / "serve.err"
    command = [sys.executable, "-m", "sff.serve", "--root", str(root), "--port", "0", *args]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            command, stdout=stdout, stderr=stderr, env={**os.environ, **(env or {})},
            preexec_fn=None if max_files is None else lambda: _limit_files(max_files),
        )  # fmt: skip
    running = Running(_await_url(process, out, err), process, out, err)
    try:
        yield running
    finally:
        running.stop()


def _limit_files(count: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))


def _await_url(process: subprocess.Popen[bytes], out: Path, err: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for line in out.read_text().splitlines():
            if "listening on " in line:
                return line.split("listening on ")[1].split()[0]
        if process.poll() is not None:
            raise AssertionError(f"sff serve exited: {err.read_text()}")
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"sff serve did not start: {err.read_text()}")


def require_tool(path: str) -> str:
    """The tool's path; missing, the test skips on a workstation and fails under CI."""
    found = shutil.which(path)
    if found is None:
        message = f"{path} is not installed (apt-get install -y {Path(path).name})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found
