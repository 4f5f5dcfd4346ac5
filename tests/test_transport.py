"""The plain-http transport against real sockets: framing, keep-alive, limits, errors."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import respx

from demo.backend import DemoBackend, serve_in_thread
from sff.http.client import new_client
from sff.http.transport import StreamTransport

Reply = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
def demo() -> tuple[DemoBackend, str]:  # type: ignore[misc]
    backend = DemoBackend()
    with serve_in_thread(backend=backend) as url:
        yield backend, url


async def serve_raw(reply: Reply) -> tuple[asyncio.Server, str]:
    """A one-purpose server: ``reply`` writes exactly the bytes under test."""
    server = await asyncio.start_server(reply, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def client_for(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=StreamTransport(httpx.Limits(max_connections=10)))


async def test_new_client_sends_plain_http_over_the_stream_transport(
    demo: tuple[DemoBackend, str],
) -> None:
    _, url = demo
    async with new_client() as client:
        response = await client.get(f"{url}/users/2")
    assert response.status_code == 200 and response.json()["id"] == 2


async def test_a_hundred_concurrent_requests_answer_in_order_and_reuse_connections(
    demo: tuple[DemoBackend, str],
) -> None:
    backend, url = demo
    async with new_client(max_connections=10) as client:
        for _ in range(2):
            responses = await asyncio.gather(
                *(client.get(f"{url}/todos/{i}") for i in range(1, 101))
            )
            assert [r.json()["id"] for r in responses] == list(range(1, 101))
    assert backend.connections_opened == 10


async def test_a_post_body_and_the_query_arrive_as_sent(demo: tuple[DemoBackend, str]) -> None:
    _, url = demo
    async with new_client() as client:
        response = await client.post(f"{url}/echo/a%2Fb?x=1&y=%20", json={"k": "v"})
    echoed = response.json()
    assert echoed["raw_path"] == "/echo/a%2Fb?x=1&y=%20"
    assert echoed["body"] == '{"k":"v"}' or echoed["body"] == {"k": "v"}


async def test_a_chunked_body_is_decoded_and_the_connection_reused() -> None:
    connections = 0

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                await read_head(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
            )
            await writer.drain()
        writer.close()

    server, url = await serve_raw(reply)
    async with server, client_for(url) as client:
        assert (await client.get(url)).text == "hello world"
        assert (await client.get(url)).text == "hello world"
    assert connections == 1


async def test_a_close_delimited_body_is_read_to_the_end() -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    server, url = await serve_raw(reply)
    async with server, client_for(url) as client:
        assert (await client.get(url)).text == "all of it"
        assert (await client.get(url)).text == "all of it"


async def test_head_and_204_have_no_body_and_keep_the_connection() -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await read_head(reader)
            except asyncio.IncompleteReadError:
                break
            if head.startswith(b"HEAD"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
        writer.close()

    server, url = await serve_raw(reply)
    async with server, client_for(url) as client:
        head = await client.head(url)
        empty = await client.delete(url)
    assert (head.status_code, head.content) == (200, b"")
    assert (empty.status_code, empty.content) == (204, b"")


async def test_a_truncated_body_is_a_protocol_error() -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
        await writer.drain()
        writer.close()

    server, url = await serve_raw(reply)
    async with server, client_for(url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(url)


async def test_a_silent_server_is_a_read_timeout_and_a_refused_port_a_connect_error() -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    server, url = await serve_raw(reply)
    async with server, client_for(url) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(url, timeout=0.1)
    server.close()
    await server.wait_closed()
    async with client_for(url) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(url)


async def test_a_garbled_status_line_is_a_protocol_error() -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"SPDY/9 what\r\n\r\n")
        await writer.drain()
        writer.close()

    server, url = await serve_raw(reply)
    async with server, client_for(url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(url)


async def test_an_idle_connection_the_server_closed_is_replaced_for_a_get() -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)  # one answer per connection, then hang up
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    server, url = await serve_raw(reply)
    async with server, client_for(url) as client:
        assert (await client.get(url)).text == "ok"
        await asyncio.sleep(0.05)
        assert (await client.get(url)).text == "ok"


async def test_connections_over_the_cap_wait_and_a_cancelled_read_frees_its_slot(
    demo: tuple[DemoBackend, str],
) -> None:
    _, url = demo
    transport = StreamTransport(httpx.Limits(max_connections=1))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await client.get(f"{url}/users/1", headers={"x-demo-delay-ms": "1000"})
        assert (await client.get(f"{url}/users/3")).json()["id"] == 3
        with pytest.raises(httpx.PoolTimeout):
            async with client.stream("GET", f"{url}/users/1"):
                await client.get(f"{url}/users/2", timeout=httpx.Timeout(1, pool=0.05))


async def test_respx_mocks_still_see_every_request() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get("http://backend.test/x").respond(json={"mocked": True})
        async with new_client() as client:
            assert (await client.get("http://backend.test/x")).json() == {"mocked": True}


def test_respx_started_before_the_transport_is_imported_still_sees_requests(
    tmp_path: Path,
) -> None:
    script = tmp_path / "late.py"
    script.write_text(
        "import asyncio, respx\n"
        "with respx.mock(assert_all_called=True) as router:\n"
        "    router.get('http://backend.test/x').respond(json=1)\n"
        "    from sff.http.client import new_client\n"
        "    async def main():\n"
        "        async with new_client() as client:\n"
        "            return (await client.get('http://backend.test/x')).json()\n"
        "    assert asyncio.run(main()) == 1\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
