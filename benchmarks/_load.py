"""A small keep-alive HTTP/1.1 load generator, for machines without ``wrk``.

``python -m benchmarks._load URL CONNECTIONS SECONDS`` prints requests per second.
"""

from __future__ import annotations

import asyncio
import sys
import time
from urllib.parse import urlsplit


async def worker(host: str, port: int, target: str, until: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    while time.perf_counter() < until:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        counts[0 if head.startswith(b"HTTP/1.1 200") else 1] += 1
    writer.close()


async def load(url: str, connections: int, seconds: float) -> float:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    counts = [0, 0]
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(
        *(worker(host, port, parts.path or "/", until, counts) for _ in range(connections))
    )
    if counts[1]:
        raise RuntimeError(f"{counts[1]} answers were not 200")
    return counts[0] / (time.perf_counter() - started)


if __name__ == "__main__":
    print(
        f"Requests/sec: {asyncio.run(load(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))):.2f}"
    )
