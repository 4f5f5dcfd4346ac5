"""The mocked backends' server: HTTP/1.1 bytes in, the routes' answers out, over a socket pair.

`MockBackends` installs `Answerer` at the bottom of sff's wire (`sff.http.intercept`), so
a mocked test runs sff's own rendering, header checks, framing, decoding and size caps,
as production does; only the far end of the socket is the router. The request is parsed
and the answer written by h11 (a test server's CPU does not matter here); the router is
respx's, so routes, patterns and ``.calls`` stay what they were. A route that raises (a
mocked timeout or connection error) makes the client's pending read raise that error.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import httpx

from sff.http import faults
from sff.http.channel import Channel
from sff.http.intercept import Origin, Serve


class Answerer:
    """Answers every plain-http origin with ``router`` (respx), while installed."""

    def __init__(self, router: Any) -> None:
        self.router = router

    def __call__(self, origin: Origin) -> Serve | None:
        return self.serve

    async def serve(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        client: Channel,
    ) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            event = await _next(conn, reader)
            if not isinstance(event, h11.Request):
                return
            body = b""
            while not isinstance(part := await _next(conn, reader), h11.EndOfMessage):
                if not isinstance(part, h11.Data):
                    return
                body += part.data
            request = _request(event, body)
            try:
                response = await self.router.async_handler(request)
            except Exception as exc:  # a fault the route was told to raise
                client.set_exception(faults.from_httpx(exc))  # as the real wire raises it
                return
            writer.write(_answer(conn, response))
            await writer.drain()
            if conn.our_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()


async def _next(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
    while (event := conn.next_event()) is h11.NEED_DATA:
        conn.receive_data(await reader.read(65536))
    return event


def _request(event: h11.Request, body: bytes) -> httpx.Request:
    headers = [(name, value) for name, value in event.headers.raw_items()]
    host = next(v for n, v in event.headers if n == b"host").decode("ascii")
    url = f"http://{host}{event.target.decode('ascii')}"
    return httpx.Request(event.method.decode("ascii"), url, headers=headers, content=body)


def _answer(conn: h11.Connection, response: httpx.Response) -> bytes:
    # The bytes as the route gave them, still content-coded (httpx decoded .content).
    stream = response.stream
    content = b"".join(stream) if isinstance(stream, httpx.ByteStream) else response.content
    headers = [(n, v) for n, v in response.headers.raw if n.lower() != b"transfer-encoding"]
    if not any(n.lower() == b"content-length" for n, _ in headers):
        headers.append((b"Content-Length", b"%d" % len(content)))
    head = h11.Response(
        status_code=response.status_code,
        headers=headers,
        reason=response.reason_phrase.encode("ascii"),
    )
    events = [head, h11.Data(data=content), h11.EndOfMessage()]
    return b"".join(conn.send(event) or b"" for event in events)
