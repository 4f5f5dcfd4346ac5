"""A function instance: ``python -m sff.serve.worker ROOT MODULE ATTRIBUTE [--once]``.

It imports the function (its init, timed), says hello, then answers invocation requests
read from stdin, one JSON line each, on the stdout it was started with. ``--once`` is the
use-and-destroy model: one invocation, then the process ends. Without it the instance
stays resident, keeping its event loop and pooled HTTP client warm between invocations.
Anything the function prints goes to stderr, so it can never corrupt the protocol.

``python -m sff.serve.worker --describe ROOT`` prints what the gateway needs to route and
document the project (see `sff.serve.describe`) without the gateway importing user code.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import resource
import signal
import sys
import time
import traceback
from typing import IO, TYPE_CHECKING, Any

from sff.serve.protocol import Call, Hello, Reply, decode, encode

if TYPE_CHECKING:
    from sff.cache import SafeStore
    from sff.function import Function
    from sff.http.client import Client


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the gateway's to handle
    channel = _private_stdout()
    if argv[:1] == ["--describe"]:
        from sff.serve.describe import describe

        channel.write(encode(describe(argv[1])))
        return 0
    root, module, attribute = argv[:3]
    started = time.perf_counter()
    fn = _load(channel, root, module, attribute)
    if fn is not None:
        _serve(channel, fn, started, once="--once" in argv)
    return 0 if fn is not None else 1


def _private_stdout() -> IO[bytes]:
    """The protocol keeps the original stdout; fd 1 (and print) now go to stderr."""
    channel = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    return channel


def _load(channel: IO[bytes], root: str, module: str, attribute: str) -> Function | None:
    sys.path.insert(0, root)
    try:
        fn: Function = getattr(importlib.import_module(module), attribute)
    except BaseException as exc:
        traceback.print_exc()
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        channel.write(encode(Hello(ready=False, pid=os.getpid(), error=error)))
        return None
    return fn


def _serve(channel: IO[bytes], fn: Function, started: float, *, once: bool) -> None:
    """One event loop for the instance's life: a resident instance opens its pooled client
    during init and keeps it connected between invocations, as a warm FaaS instance does,
    and its fallback-cache store too (opened at the first invocation that needs it), so a
    hung cache costs its timeout once per instance, not once per invocation."""
    with asyncio.Runner() as runner:
        warm = None if once else Warm()
        import_ms = (time.perf_counter() - started) * 1000
        channel.write(encode(Hello(ready=True, pid=os.getpid(), import_ms=import_ms)))
        try:
            while line := sys.stdin.buffer.readline():
                call: Any = decode(line)
                channel.write(encode(runner.run(invoke(fn, call, warm))))
                if once:  # destroyed: gone at once, no interpreter teardown to wait for
                    sys.stderr.flush()
                    os._exit(0)
        finally:
            if warm is not None:
                runner.run(warm.close())


class Warm:
    """What a resident instance keeps between invocations: its client and cache store."""

    def __init__(self) -> None:
        from sff.http.client import new_client

        self.client: Client = new_client()
        self.store: SafeStore | None = None

    def store_for(self, fn: Function) -> SafeStore | None:
        from sff.fallback import cache_url, needs_store

        if self.store is None and needs_store(fn.plan):
            from sff.cache import open_store

            self.store = open_store(cache_url())
        return self.store

    async def close(self) -> None:
        await self.client.aclose()
        if self.store is not None:
            await self.store.close()


async def invoke(fn: Function, call: Call, warm: Warm | None) -> Reply:
    from sff.errors import SffError
    from sff.result import error_body, response_headers

    started = time.perf_counter()
    rid = call["request_id"]
    try:
        result = await fn.invoke(
            call["input"],
            headers=call["headers"],
            request_id=rid,
            client=warm.client if warm is not None else None,
            cache=warm.store_for(fn) if warm is not None else None,
        )
        status, headers, body, meta = 200, result.headers(), result.body(), result.meta
    except SffError as exc:
        meta = exc.meta
        status, headers, body = exc.status, response_headers(meta), error_body(exc, rid)
    except Exception:  # a bug in the function: the log gets the traceback, the caller not
        traceback.print_exc()
        meta = None
        unexpected = SffError(f"function {fn.name!r} failed unexpectedly (see the server log)")
        status, headers, body = 500, response_headers(None), error_body(unexpected, rid)
    return Reply(
        status=status,
        headers=headers,
        body=body.decode("utf-8", "replace"),
        meta=meta.to_dict() if meta is not None else None,
        duration_ms=(time.perf_counter() - started) * 1000,
        max_rss_kb=own_peak_kb(),
    )


def own_peak_kb() -> int:
    """This process's own peak resident memory. ``ru_maxrss`` will not do: on Linux a child
    inherits it from the parent across fork and exec (a worker of a 400 MB gateway would
    report 400 MB), whereas ``VmHWM`` belongs to the process's own address space."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # no procfs: the best there is


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
