"""The running gateway: listen, serve connections, reclaim idle instances, reload, and
print the summary on the way out (Ctrl-C or SIGTERM)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from sff.serve.catalog import Catalog, load_catalog
from sff.serve.gateway import Gateway
from sff.serve.http import MAX_HEAD_BYTES, HttpError, error_response, read_request
from sff.serve.options import Options
from sff.serve.stats import summary_text

BACKLOG = 4096  # hundreds of connections may open at once under load
TICK_S = 0.25
DRAIN_S = 5.0  # at exit, how long requests in flight may take to finish


async def serve(options: Options) -> int:
    catalog = await load_catalog(options.root)
    announce(catalog)
    gateway = Gateway(options, catalog)
    connections: dict[asyncio.Task[None], bool] = {}  # task -> busy answering a request
    server = await asyncio.start_server(
        lambda r, w: connection(gateway, r, w, connections), options.host, options.port,
        limit=MAX_HEAD_BYTES, backlog=BACKLOG,
    )  # fmt: skip
    port = server.sockets[0].getsockname()[1]
    print(
        f"sff serve: listening on http://{options.host}:{port} (model={options.model}, "
        f"max-instances={options.max_instances}, idle-timeout={options.idle_timeout:g}s, "
        f"memory={options.memory_mb}MB) — waterfall at /_sff, stats at /_sff/stats",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    chores = [asyncio.create_task(reclaimer(gateway))]
    if options.reload:
        chores.append(asyncio.create_task(reloader(gateway, options.root)))
    async with server:
        await stop.wait()
    for chore in chores:
        chore.cancel()
    await drain(connections)
    await gateway.close()
    print(summary_text(gateway.stats.summary(), options.model), flush=True)
    return 0


def announce(catalog: Catalog) -> None:
    for route in catalog.routes:
        print(f"  {route!s:<32} {route.info['module']}:{route.info['attribute']}", flush=True)
    for broken in catalog.broken:
        print(
            f"sff serve: {broken.where} ({broken.module}) failed to import: {broken.error}",
            file=sys.stderr,
            flush=True,
        )


async def connection(
    gateway: Gateway,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    connections: dict[asyncio.Task[None], bool],
) -> None:
    task = asyncio.current_task()
    assert task is not None
    try:
        while True:
            connections[task] = False
            try:
                request = await read_request(reader)
            except HttpError as exc:
                writer.write(error_response(exc.status, "bad_request", exc.message).encode(False))
                break
            if request is None:
                break
            connections[task] = True
            response = await gateway.handle(request)
            writer.write(response.encode(request.keep_alive))
            await writer.drain()
            if not request.keep_alive:
                break
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
        pass  # the client left, or the gateway is shutting down
    finally:
        connections.pop(task, None)
        with contextlib.suppress(Exception):
            writer.close()


async def drain(connections: dict[asyncio.Task[None], bool]) -> None:
    """Idle keep-alive connections close now; requests in flight get a few seconds."""
    for task, busy in list(connections.items()):
        if not busy:
            task.cancel()
    if connections:
        await asyncio.wait(list(connections), timeout=DRAIN_S)
    for task in list(connections):
        task.cancel()
    await asyncio.gather(*connections, return_exceptions=True)


async def reclaimer(gateway: Gateway) -> None:
    while True:
        await asyncio.sleep(TICK_S)
        await gateway.reclaim_idle()


async def reloader(gateway: Gateway, root: Path) -> None:
    """Poll the project's Python files; on a change describe it again and retire every
    instance, so the next request starts cold on the new code."""
    seen = snapshot(root)
    while True:
        await asyncio.sleep(1.0)
        now = snapshot(root)
        if now == seen:
            continue
        seen = now
        try:
            catalog = await load_catalog(root)
        except Exception as exc:
            print(f"sff serve: reload failed, still serving the old code: {exc}", file=sys.stderr)
            continue
        announce(catalog)
        old, gateway.pools, gateway.catalog = gateway.pools, {}, catalog
        await asyncio.gather(*(pool.close() for pool in old.values()))
        print("sff serve: reloaded", flush=True)


def snapshot(root: Path) -> dict[str, float]:
    files: dict[str, float] = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if any(p.startswith(".") or p in ("__pycache__", "node_modules") for p in parts):
            continue
        with contextlib.suppress(OSError):
            files[str(path)] = path.stat().st_mtime
    return files
