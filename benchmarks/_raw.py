"""The floor: HTTP/1.1 GETs written straight onto asyncio streams, with keep-alive reuse.

It knows only what the demo backend sends (a Content-Length on every answer), which is
exactly why it is a floor and not a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit


class RawClient:
    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.head = f"Host: {self.host}:{self.port}\r\n"

    async def get_json(self, path: str, headers: dict[str, str]) -> Any:
        if self.idle:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(f"GET {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length)
        if not head.startswith(b"HTTP/1.1 2"):
            raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
        self.idle.append((reader, writer))
        return json.loads(body)

    async def aclose(self) -> None:
        idle, self.idle = self.idle, []
        for _, writer in idle:
            writer.close()
        for _, writer in idle:
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
