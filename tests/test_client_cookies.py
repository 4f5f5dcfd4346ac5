"""sff's client keeps no cookies: one backend's Set-Cookie never reaches another request."""

from __future__ import annotations

import httpx
import respx

from sff.http.client import new_client


async def test_a_cookie_a_backend_sets_is_not_sent_on_later_requests() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get("http://a.test/login").respond(headers={"set-cookie": "session=secret; Path=/"})
        seen = router.get("http://b.test/data").respond(json={})
        async with new_client() as client:
            await client.get("http://a.test/login")
            await client.get("http://b.test/data")
            await client.get("http://a.test/login")
            assert not client.cookies
    assert "cookie" not in seen.calls.last.request.headers


async def test_cookies_given_with_a_request_are_still_sent() -> None:
    with respx.mock() as router:
        seen = router.get("http://a.test/x").respond(json={})
        async with new_client() as client:
            request = client.build_request("GET", "http://a.test/x", headers={"cookie": "a=1"})
            await client.send(request)
    assert seen.calls.last.request.headers["cookie"] == "a=1"
    assert isinstance(new_client().cookies, httpx.Cookies)
