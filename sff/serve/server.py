"""The running gateway: uvicorn serving the gateway app on a socket bound here, idle
instances reclaimed, reload, and the summary printed on the way out (Ctrl-C or SIGTERM,
which uvicorn catches: it stops accepting and lets requests in flight finish)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

from sff.serve.catalog import Catalog, load_catalog
from sff.serve.gateway import Gateway
from sff.serve.hosts import allowed_hosts
from sff.serve.options import Options
from sff.serve.stats import summary_text

TICK_S = 0.25


async def serve(options: Options) -> int:
    from sff.serve import front

    catalog = await load_catalog(options.root)
    announce(catalog)
    hosts = allowed_hosts(options.host, options.allow_hosts)
    gateway = Gateway(options, catalog, hosts)
    sock = front.listen(options.host, options.port)
    config = front.config(gateway, options, functions=len(catalog.routes))
    server = front.Server(config)
    port = sock.getsockname()[1]
    print(
        f"sff serve: listening on http://{_url_host(options.host)}:{port} "
        f"(model={options.model}, max-instances={options.max_instances}, "
        f"queue={options.queue_depth}, idle-timeout={options.idle_timeout:g}s, "
        f"memory={options.memory_mb}MB, connections<={config.limit_concurrency}) — "
        "waterfall at /_sff, stats at /_sff/stats, API docs at /docs",
        flush=True,
    )
    chores = [asyncio.create_task(reclaimer(gateway))]
    if options.reload:
        chores.append(asyncio.create_task(reloader(gateway, options.root)))
    try:
        await server.serve(sockets=[sock])  # until SIGINT/SIGTERM; drains requests in flight
    finally:
        for chore in chores:
            chore.cancel()
        await gateway.close()
    print(summary_text(gateway.stats.summary(), options.model), flush=True)
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def announce(catalog: Catalog) -> None:
    for route in catalog.routes:
        print(f"  {route!s:<32} {route.info['module']}:{route.info['attribute']}", flush=True)
    for broken in catalog.broken:
        print(
            f"sff serve: {broken.where} ({broken.module}) failed to import: {broken.error}",
            file=sys.stderr,
            flush=True,
        )


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
