"""cache_key: the same request gets the same key; a different audience never does."""

from __future__ import annotations

import re

from sff.cache import cache_key, canonical_url

URL = "https://api.example.com/todos?userId=1&done=false"


def key(
    url: str = URL,
    vary: dict[str, str] | None = None,
    identity: str | None = "user-1",
    backend: str = "todos",
    method: str = "GET",
) -> str:
    return cache_key(backend, method, url, vary or {}, identity)


def test_a_key_is_a_versioned_sha256_that_hides_the_url() -> None:
    k = key("https://api.example.com/todos?api_key=s3cret")
    assert re.fullmatch(r"sff:v1:[0-9a-f]{64}", k)
    assert "s3cret" not in k


def test_query_parameters_in_another_order_give_the_same_key() -> None:
    assert key("https://api.example.com/todos?done=false&userId=1") == key()


def test_scheme_and_host_case_default_port_and_fragment_do_not_change_the_key() -> None:
    assert key("HTTPS://API.Example.COM:443/todos?userId=1&done=false#top") == key()


def test_path_case_and_a_non_default_port_change_the_key() -> None:
    assert key("https://api.example.com/Todos?userId=1&done=false") != key()
    assert key("https://api.example.com:8443/todos?userId=1&done=false") != key()


def test_repeated_parameters_keep_their_order() -> None:
    a = key("https://api.example.com/todos?id=1&b=0&id=2")
    assert a == key("https://api.example.com/todos?b=0&id=1&id=2")
    assert a != key("https://api.example.com/todos?b=0&id=2&id=1")


def test_a_different_identity_gives_a_different_key() -> None:
    assert key(identity="user-2") != key(identity="user-1")
    assert key(identity=None) != key(identity="")  # anonymous is not an empty identity


def test_a_different_vary_header_value_gives_a_different_key() -> None:
    assert key(vary={"Accept-Language": "de"}) != key(vary={"Accept-Language": "en"})
    assert key(vary={"Accept-Language": "en"}) != key()


def test_vary_header_names_ignore_case_and_order() -> None:
    a = key(vary={"Accept-Language": "en", "X-Tenant": "acme"})
    assert a == key(vary={"x-tenant": "acme", "ACCEPT-LANGUAGE": "en"})


def test_backend_and_method_are_part_of_the_key() -> None:
    assert key(backend="users") != key()
    assert key(method="get") == key()
    assert key(method="POST") != key()


def test_a_value_cannot_forge_a_field_boundary() -> None:
    # A naive "backend|method|url" join would make these two collide.
    assert cache_key("a|GET", "x", URL, {}, None) != cache_key("a", "GET|x", URL, {}, None)


def test_canonical_url_sorts_the_query_and_lowercases_scheme_and_host() -> None:
    assert canonical_url("HTTP://Example.COM:80?b=2&a=1&a=0#f") == "http://example.com/?a=1&a=0&b=2"
