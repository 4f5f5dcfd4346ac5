"""The linear connection pool: same behaviour as httpcore's, against a real server."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from demo.backend import DemoBackend, serve_in_thread
from sff.http.client import new_client
from sff.http.pool import LinearConnectionPool, linear_transport


@pytest.fixture
def server() -> tuple[DemoBackend, str]:  # type: ignore[misc]
    backend = DemoBackend()
    with serve_in_thread(backend=backend) as url:
        yield backend, url


def test_the_client_uses_the_linear_pool() -> None:
    transport = linear_transport(httpx.Limits(max_connections=3), verify=False)
    assert isinstance(transport._pool, LinearConnectionPool)


async def test_a_hundred_concurrent_requests_all_answer_in_order(
    server: tuple[DemoBackend, str],
) -> None:
    _, url = server
    async with new_client() as client:
        slow = {"x-demo-delay-ms": "20"}
        responses = await asyncio.gather(
            *(client.get(f"{url}/todos/{i}", headers=slow) for i in range(1, 101))
        )
    assert [r.json()["id"] for r in responses] == list(range(1, 101))


async def test_connections_are_capped_and_reused(server: tuple[DemoBackend, str]) -> None:
    backend, url = server
    async with new_client(max_connections=4) as client:
        for _ in range(3):
            responses = await asyncio.gather(
                *(client.get(f"{url}/users/1", params={"k": i}) for i in range(20))
            )
            assert all(r.status_code == 200 for r in responses)
    assert backend.connections_opened == 4


async def test_a_connection_the_server_closed_is_replaced(server: tuple[DemoBackend, str]) -> None:
    backend, url = server
    async with new_client() as client:
        assert (await client.get(f"{url}/users/1")).status_code == 200
        await backend_drop_connections(backend)
        assert (await client.get(f"{url}/users/2")).json()["id"] == 2
    assert backend.connections_opened == 2


async def test_a_cancelled_request_frees_its_connection(server: tuple[DemoBackend, str]) -> None:
    _, url = server
    async with new_client(max_connections=1) as client:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await client.get(f"{url}/users/1", headers={"x-demo-delay-ms": "1000"})
        assert (await client.get(f"{url}/users/3")).json()["id"] == 3


async def backend_drop_connections(backend: DemoBackend) -> None:
    """Close the server side of every open connection, as an idle timeout would."""
    loop = backend_loop(backend)
    done = asyncio.Event()
    outer = asyncio.get_running_loop()

    def drop() -> None:
        for task in list(backend._connections):
            task.cancel()
        outer.call_soon_threadsafe(done.set)

    loop.call_soon_threadsafe(drop)
    await done.wait()
    await asyncio.sleep(0.05)  # let the FIN arrive


def backend_loop(backend: DemoBackend) -> asyncio.AbstractEventLoop:
    assert backend._server is not None
    return backend._server.get_loop()
