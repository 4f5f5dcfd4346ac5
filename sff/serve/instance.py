"""One function instance: a worker process, its cold start, and its invocations."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
import time
from dataclasses import dataclass
from typing import Any

from sff.serve.protocol import Call, decode, encode

LINE_LIMIT = 64 * 1024 * 1024  # one reply line carries a whole response body
_numbers = itertools.count(1)
# One cell per instance starting right now (of any function: they share the CPUs), holding
# the most starts that were in progress at once during it.
_starting: list[list[int]] = []


class InitFailed(Exception):
    """The function's module did not import in the instance (the hello says why)."""


class Crashed(Exception):
    """The instance died in the middle of an invocation."""


class Hung(Crashed):
    """The instance did not answer within the function's timeout and its grace."""


@dataclass(frozen=True)
class Spec:
    """Where an instance finds its function."""

    name: str
    root: str
    module: str
    attribute: str
    timeout: float


class Instance:
    def __init__(self, spec: Spec, process: asyncio.subprocess.Process, started: float) -> None:
        self.spec = spec
        self.process = process
        self.id = f"{spec.name}-{next(_numbers)}"
        self.started = started
        self.init_ms = 0.0  # spawn to ready, as the caller waits for it: the cold start
        self.import_ms = 0.0
        self.starting_together = 1  # the most instances starting at once during this start
        self.invocations = 0
        self.last_used = time.monotonic()

    @classmethod
    async def start(cls, spec: Spec, *, once: bool) -> Instance:
        """Spawn the worker and wait until its function is imported."""
        cell = [0]
        _starting.append(cell)
        for other in _starting:
            other[0] = max(other[0], len(_starting))
        try:
            instance = await cls._start(spec, once=once)
        finally:
            _starting.remove(cell)
        instance.starting_together = cell[0]
        return instance

    @classmethod
    async def _start(cls, spec: Spec, *, once: bool) -> Instance:
        started = time.perf_counter()
        args = [spec.root, spec.module, spec.attribute, *(["--once"] if once else [])]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sff.serve.worker", *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=LINE_LIMIT,
        )  # fmt: skip
        instance = cls(spec, process, started)
        try:
            hello = await instance._read(timeout=max(30.0, spec.timeout))
        except TimeoutError:
            hello = {"error": "it did not finish importing within 30 s"}
        if hello is None or not hello.get("ready"):
            await instance.stop()
            reason = hello.get("error", "no reason given") if hello else "it exited"
            raise InitFailed(f"{spec.module} failed to import: {reason}")
        instance.init_ms = (time.perf_counter() - started) * 1000
        instance.import_ms = float(hello.get("import_ms", 0.0))
        return instance

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def invoke(self, call: Call | bytes) -> dict[str, Any]:
        """Send one invocation (a `Call`, or its protocol line already encoded) and wait for
        its reply (the function's own timeout, plus a grace period for the instance to
        notice it)."""
        assert self.process.stdin is not None
        self.invocations += 1
        try:
            self.process.stdin.write(call if isinstance(call, bytes) else encode(call))
            await self.process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise Crashed(f"instance {self.id} had exited") from None
        try:
            reply = await self._read(timeout=self.spec.timeout + 5.0)
        except TimeoutError:
            await self.stop()
            raise Hung(f"instance {self.id} did not answer in time") from None
        self.last_used = time.monotonic()
        if reply is None:
            await self.stop()
            raise Crashed(f"instance {self.id} died during the invocation")
        return reply

    async def _read(self, timeout: float) -> dict[str, Any] | None:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        try:
            return decode(line) if line else None
        except ValueError:
            return None

    async def stop(self) -> None:
        """End the process: close its stdin (a resident worker's signal to leave), then
        terminate it if it lingers."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 2.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
