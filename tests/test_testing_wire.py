"""The testing kit's mocked backends sit below sff's own request rendering: a mocked test
runs the same rendering, header checks, framing, decoding and size caps as production."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest
import respx

from sff import Backend, Function, SffError
from sff.http.client import new_client
from sff.http.lean import LeanSender
from sff.testing import MockBackends

api = Backend("api", env="SFFW_API_URL", max_response_bytes=1024)
fn = Function("f", sources={"a": api.get("/x/{input.id}", headers={"x-n": "input.n"})}, shape="a")


@pytest.fixture
def lean(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes of every request the lean path rendered and wrote."""
    sent: list[bytes] = []
    real = LeanSender.send

    async def spy(self: LeanSender, name: str, request: Any, limit: int) -> Any:
        sent.append(request.payload)
        return await real(self, name, request, limit)

    monkeypatch.setattr(LeanSender, "send", spy)
    return sent


async def test_a_mocked_request_is_rendered_and_written_by_the_production_path(
    lean: list[bytes],
) -> None:
    with MockBackends([fn]) as backends:
        route = backends.api.get("/x/{id}").respond(json={"ok": 1})
        result = await fn.invoke({"id": "a b", "n": "1"})
    assert result.data == {"ok": 1}
    (payload,) = lean
    assert payload.startswith(b"GET /x/a%20b HTTP/1.1\r\nHost: api.sff.test\r\n")
    (request,) = route.calls
    assert request.url.path == "/x/a b" and request.headers["x-n"] == "1"


async def test_header_checks_apply_under_mocks(lean: list[bytes]) -> None:
    with MockBackends([fn]) as backends:
        route = backends.api.get("/x/{id}").respond(json={})
        with pytest.raises(SffError) as caught:
            await fn.invoke({"id": 1, "n": "1\r\nX-Injected: 1"})
    assert caught.value.status == 400
    assert not route.called and lean == []


async def test_size_caps_and_decoding_apply_under_mocks() -> None:
    with MockBackends([fn]) as backends:
        backends.api.get("/x/1").respond(json=["x" * 2000])
        bomb = gzip.compress(b'{"z":"' + b"0" * 5000 + b'"}')  # 5 KB once decoded
        assert len(bomb) < 1024
        coded = httpx.Response(200, content=bomb, headers={"content-encoding": "gzip"})
        backends.api.get("/x/2").sequence(coded)
        for id_ in (1, 2):
            with pytest.raises(SffError) as caught:
                await fn.invoke({"id": id_, "n": "1"})
            assert "over the 1024-byte cap" in caught.value.detail["cause"]


async def test_a_mocked_timeout_fails_the_source_at_once() -> None:
    with MockBackends([fn]) as backends:
        backends.api.get("/x/1").timeout()
        with pytest.raises(SffError) as caught:
            await fn.invoke({"id": 1, "n": "1"})
    assert "timed out" in caught.value.detail["cause"]


async def test_respx_used_directly_still_mocks_httpx() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get("http://direct.test/x").respond(json={"direct": True})
        async with new_client() as client:
            response = await client.get("http://direct.test/x")
    assert response.json() == {"direct": True}
    assert isinstance(response, httpx.Response)
