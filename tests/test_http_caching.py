"""HTTP caching from the backends' own headers, over real loopback HTTP: `max-age` /
`s-maxage` minus `Age`, ETag and Last-Modified revalidation, `no-store` and `private`
honoured, malformed headers ignored; and the rules themselves (`sff.freshness`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sff import Backend, Fallback, Function, Retry, SourceError
from sff.cache import MemoryStore
from sff.freshness import Stored, age, lifetime, parse, storable
from tests.scripted_http import Reply, Script, serve


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def base(script: Script) -> Iterator[str]:
    with serve(script) as url:
        yield url


def todos_fn(base: str, **source: object) -> Function:
    todos = Backend("todos", default=base, retry=Retry.none())
    fallback = Fallback.cache(max_stale="1h", fresh="backend")
    return Function("todos", sources={"todos": todos.get("/todos", fallback=fallback, **source)})


def ok(body: bytes = b"[1]", **headers: str) -> Reply:
    return Reply(200, body, {k.replace("_", "-"): v for k, v in headers.items()})


async def test_max_age_serves_the_copy_without_calling(script: Script, base: str) -> None:
    script.on("/todos", ok(cache_control="max-age=60"))
    fn, store = todos_fn(base), MemoryStore()
    await fn.invoke(cache=store)
    second = await fn.invoke(cache=store)
    assert second.data == {"todos": [1]}
    assert script.count("/todos") == 1
    src = second.meta.sources["todos"]
    assert src.cache == "fresh" and src.attempts == 0
    assert src.fresh_s is not None and 50 <= src.fresh_s <= 60  # what is left of its 60 s
    assert second.headers()["cache-control"] == f"max-age={int(src.fresh_s)}"


async def test_age_counts_against_max_age(script: Script, base: str) -> None:
    script.on("/todos", ok(cache_control="max-age=60", age="60"))
    fn, store = todos_fn(base), MemoryStore()
    await fn.invoke(cache=store)
    await fn.invoke(cache=store)
    assert script.count("/todos") == 2


async def test_s_maxage_rules_a_shared_copy(script: Script, base: str) -> None:
    script.on("/todos", ok(cache_control="max-age=0, s-maxage=60"))
    fn, store = todos_fn(base), MemoryStore()
    await fn.invoke(cache=store)
    await fn.invoke(cache=store)
    assert script.count("/todos") == 1


async def test_etag_revalidation_304_answers_with_the_stored_copy_refreshed(
    script: Script, base: str
) -> None:
    script.on(
        "/todos",
        ok(b"[1, 2]", cache_control="max-age=0", etag='"v1"'),
        Reply(304, b"", {"etag": '"v1"', "cache-control": "max-age=60"}),
    )
    fn, store = todos_fn(base), MemoryStore()
    await fn.invoke(cache=store)
    second = await fn.invoke(cache=store)
    assert second.data == {"todos": [1, 2]}
    assert script.seen[1].headers["if-none-match"] == '"v1"'
    assert "if-none-match" not in script.seen[0].headers
    src = second.meta.sources["todos"]
    assert src.cache == "revalidated" and src.status == 304
    # the 304 said max-age=60: the refreshed copy is now fresh, no call at all
    third = await fn.invoke(cache=store)
    assert third.data == {"todos": [1, 2]} and third.meta.sources["todos"].cache == "fresh"
    assert script.count("/todos") == 2


async def test_last_modified_revalidation_sends_if_modified_since(
    script: Script, base: str
) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    script.on("/todos", ok(last_modified=stamp), Reply(304, b""))
    fn, store = todos_fn(base), MemoryStore()
    await fn.invoke(cache=store)
    second = await fn.invoke(cache=store)
    assert script.seen[1].headers["if-modified-since"] == stamp
    assert second.data == {"todos": [1]}


async def test_a_changed_resource_answers_200_and_replaces_the_copy(
    script: Script, base: str
) -> None:
    script.on(
        "/todos",
        ok(b"[1]", etag='"v1"', cache_control="no-cache"),
        ok(b"[2]", etag='"v2"', cache_control="no-cache"),
        Reply(304, b""),
    )
    fn, store = todos_fn(base), MemoryStore()
    await fn.invoke(cache=store)
    assert (await fn.invoke(cache=store)).data == {"todos": [2]}
    assert (await fn.invoke(cache=store)).data == {"todos": [2]}
    assert script.seen[2].headers["if-none-match"] == '"v2"'


async def test_no_store_is_never_kept_even_as_a_fallback(script: Script, base: str) -> None:
    script.on("/todos", ok(cache_control="no-store"), Reply(500, b"{}"))
    fn, store = todos_fn(base), MemoryStore()
    await fn.invoke(cache=store)
    with pytest.raises(SourceError, match="no cached copy"):
        await fn.invoke(cache=store)


async def test_private_is_not_kept_under_a_shared_key(script: Script, base: str) -> None:
    script.on("/todos", ok(cache_control="private, max-age=60"), Reply(500, b"{}"))
    fn, store = todos_fn(base), MemoryStore()
    await fn.invoke(cache=store)
    with pytest.raises(SourceError, match="no cached copy"):
        await fn.invoke(cache=store)
    assert script.count("/todos") == 2


async def test_private_is_kept_for_its_own_identity_only(script: Script, base: str) -> None:
    script.on("/todos", ok(b'["ada"]', cache_control="private, max-age=60"))
    fn, store = todos_fn(base, identity='headers."x-user"'), MemoryStore()
    await fn.invoke(cache=store, headers={"x-user": "ada"})
    again = await fn.invoke(cache=store, headers={"x-user": "ada"})
    assert again.meta.sources["todos"].cache == "fresh"
    script.on("/todos", ok(b'["bo"]', cache_control="private, max-age=60"))
    other = await fn.invoke(cache=store, headers={"x-user": "bo"})
    assert other.data == {"todos": ["bo"]}  # never ada's copy
    assert script.count("/todos") == 2


async def test_stale_if_error_still_stands_in(script: Script, base: str) -> None:
    script.on("/todos", ok(cache_control="max-age=0"), Reply(503, b"{}"))
    fn, store = todos_fn(base), MemoryStore()
    await fn.invoke(cache=store)
    second = await fn.invoke(cache=store)
    assert second.data == {"todos": [1]}
    assert second.meta.sources["todos"].degraded == "cache"


@pytest.mark.parametrize(
    "cc", ["max-age=abc", "max-age=-5", ",,,", 'max-age="6', "max-age=99999999999999"]
)
async def test_a_malformed_cache_control_is_treated_as_absent(
    script: Script, base: str, cc: str
) -> None:
    script.on("/todos", ok(cache_control=cc, age="zz"))
    fn, store = todos_fn(base), MemoryStore()
    await fn.invoke(cache=store)
    again = await fn.invoke(cache=store)
    assert again.data == {"todos": [1]}
    assert script.count("/todos") == 2  # no freshness declared: called again, no error


# -- the rules -------------------------------------------------------------------------------


def test_parse_reads_directives_and_ignores_junk() -> None:
    cc = parse('public, max-age=60, s-maxage="30", junk, =x, no-cache="set-cookie"')
    assert (cc.max_age, cc.s_maxage, cc.public, cc.no_cache) == (60, 30, True, True)
    assert parse(None) == parse("") == parse("max-age=") == parse("max-age=1.5")


def test_lifetime_rules() -> None:
    assert lifetime({"cache-control": "max-age=60", "age": "10"}, shared=False) == 50
    assert lifetime({"cache-control": "max-age=60", "age": "100"}, shared=False) == 0
    assert lifetime({"cache-control": "max-age=60, s-maxage=5"}, shared=True) == 5
    assert lifetime({"cache-control": "max-age=60, s-maxage=5"}, shared=False) == 60
    assert lifetime({"cache-control": "no-cache, max-age=60"}, shared=False) == 0
    assert lifetime({}, shared=False) is None
    dated = {"date": "Wed, 21 Oct 2015 07:28:00 GMT", "expires": "Wed, 21 Oct 2015 07:29:00 GMT"}
    assert lifetime(dated, shared=False) == 60
    assert lifetime({"expires": "0"}, shared=False) == 0  # invalid Expires: already stale
    assert age("12") == 12 and age("-1") == 0 and age("x") == 0 and age(None) == 0


def test_storable_rules() -> None:
    assert not storable({"cache-control": "no-store"}, shared=False)
    assert not storable({"cache-control": "private"}, shared=True)
    assert storable({"cache-control": "private"}, shared=False)
    assert storable({}, shared=True)


def test_stored_round_trip_and_junk() -> None:
    kept = Stored.of({"cache-control": "max-age=5", "etag": '"x"'}, 100.0, shared=True)
    assert Stored.decode(kept.encode()) == kept == Stored(105.0, '"x"', None)
    assert kept.conditions() == {"if-none-match": '"x"'}
    assert Stored.decode("not json") == Stored.decode("[1]") == Stored()
    assert Stored().encode() == ""


async def test_private_is_not_kept_when_the_forwarded_header_is_declared_shared(
    script: Script, base: str
) -> None:
    # accept-language is forwarded but declared the same for everyone: it does not key the
    # copy, so the key is shared and a private answer must not be kept under it
    todos = Backend(
        "todos",
        default=base,
        retry=Retry.none(),
        forward_headers=("accept-language",),
        shared_headers=("accept-language",),
    )
    step = Fallback.cache(max_stale="1h", fresh="backend")
    fn = Function("todos", sources={"todos": todos.get("/todos", fallback=step)})
    script.on("/todos", ok(cache_control="private, max-age=60"), Reply(500, b"{}"))
    store = MemoryStore()
    await fn.invoke(cache=store, headers={"accept-language": "en"})
    with pytest.raises(SourceError, match="no cached copy"):
        await fn.invoke(cache=store, headers={"accept-language": "en"})
