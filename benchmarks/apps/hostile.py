"""``python -m benchmarks.apps.hostile CASE CAP``: one invocation against a hostile server
in a child process; prints ``baseline_kib peak_kib`` of this process.

CASE ``chunk``: one 200 MiB chunk. CASE ``bomb``: a 512 MB gzip bomb (about 500 KB on the
wire). The baseline is taken after a warm-up invocation of the same function against a
small answer, so it holds the imports, the loop and the client; the peak is the most the
process ever held, so peak - baseline is what the hostile answer cost.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import sys
import zlib
from typing import Any

import httptools

from benchmarks.apps._peak import peak_kib

MiB = 1024 * 1024


def _bomb() -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(MiB)
    return b"".join([packer.compress(zeros) for _ in range(512)]) + packer.flush()


async def _serve(sock: socket.socket, bomb: bytes) -> None:

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests = _Requests()
        parser = httptools.HttpRequestParser(requests)
        try:
            while data := await reader.read(65536):
                parser.feed_data(data)
                while requests.paths:
                    await _answer(writer, requests.paths.pop(0), bomb)
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, sock=sock)
    await server.serve_forever()


class _Requests:
    """httptools callbacks: the path of each whole request received."""

    def __init__(self) -> None:
        self.paths: list[bytes] = []
        self._url = b""

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_message_complete(self) -> None:
        self.paths.append(self._url)
        self._url = b""


async def _answer(writer: asyncio.StreamWriter, path: bytes, bomb: bytes) -> None:
    if path == b"/bomb":
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
        writer.write(head % len(bomb) + bomb)
    elif path == b"/chunk":
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % (200 * MiB))
        piece = bytes(64 * 1024)
        for _ in range(200 * 16):
            writer.write(piece)
            await writer.drain()
    else:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    await writer.drain()


def _server_main(sock: socket.socket, ready: Any) -> None:
    bomb = _bomb()  # made here, so its making never counts in the client's peak
    ready.set()
    asyncio.run(_serve(sock, bomb))


async def _invoke(url: str, case: str, cap: int) -> tuple[int, int]:
    from sff import Backend, Function, SffError
    from sff.http.client import new_client

    backend = Backend("hostile", default=url, max_response_bytes=cap)
    warm = Function("warm", sources={"a": backend.get("/small")})
    hostile = Function("hostile", sources={"a": backend.get(f"/{case}")})
    async with new_client() as client:
        await warm.invoke(client=client)  # the first request on the connection: small
        baseline = peak_kib()
        try:
            await hostile.invoke(client=client)
        except SffError as exc:
            assert exc.code == "source_failed", exc
        else:
            raise AssertionError("a hostile answer was accepted")
    return baseline, peak_kib()


if __name__ == "__main__":
    case, cap = sys.argv[1], int(sys.argv[2])
    listener = socket.create_server(("127.0.0.1", 0))
    fork = multiprocessing.get_context("fork")
    ready = fork.Event()
    child = fork.Process(target=_server_main, args=(listener, ready))
    child.start()
    ready.wait()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        print(*asyncio.run(_invoke(url, case, cap)))
    finally:
        child.kill()
