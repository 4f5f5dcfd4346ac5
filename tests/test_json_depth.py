"""JSON nesting is bounded by a documented limit (512 for backend answers, 64 for request
bodies), not by Python's recursion limit; the check agrees with a recursive depth (issue 10).
Backends are real servers on loopback."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from sff import Backend, Fallback, Function, Retry, SffError, jsonsafe
from tests.wire_servers import Recorder, always, ok


def api(url: str) -> Backend:
    return Backend("api", default=url, retry=Retry.none())


async def failure(fn: Function, input: Any = None) -> SffError:
    with pytest.raises(SffError) as caught:
        await fn.invoke(input)
    return caught.value


# -- nesting depth ----------------------------------------------------------------------------


def nested(depth: int, inner: bytes = b"1") -> bytes:
    return b'{"a":' * depth + inner + b"}" * depth


@pytest.mark.parametrize("depth", [513, 900, 100_000])
async def test_a_backend_body_deeper_than_512_fails_the_source_and_its_fallback_applies(
    depth: int,
) -> None:
    async with Recorder(always(ok(nested(depth)))) as server:
        backend = api(server.url)
        error = await failure(Function("f", sources={"a": backend.get("/x")}))
        spare = Function("g", sources={"a": backend.get("/x", fallback=Fallback.value("spare"))},
                         shape="a")  # fmt: skip
        rescued = await spare.invoke()
    assert error.code == "source_failed" and "nested deeper than 512 levels" in error.message
    assert rescued.data == "spare" and rescued.meta.sources["a"].outcome == "degraded"


async def test_a_body_exactly_at_the_limit_is_read() -> None:
    async with Recorder(always(ok(nested(512)))) as server:
        fn = Function("f", sources={"a": api(server.url).get("/x")}, shape="a.a.a")
        result = await fn.invoke()
    assert isinstance(result.data, dict) and "a" in result.data


async def test_the_limit_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFF_MAX_JSON_DEPTH", "8")
    async with Recorder(always(ok(nested(9)))) as server:
        error = await failure(Function("f", sources={"a": api(server.url).get("/x")}))
    assert "nested deeper than 8 levels" in error.message


def test_brackets_inside_strings_can_neither_hide_nor_fake_depth() -> None:
    # every level opens with a string holding a closing bracket: counting brackets in the
    # text would call this shallow
    hidden = b'["]",' * 600 + b"1" + b"]" * 600
    with pytest.raises(jsonsafe.TooDeep):
        jsonsafe.loads(hidden, 512)
    fake = json.dumps(["[" * 2000, {"a": "{" * 2000}]).encode()  # shallow, many brackets
    assert jsonsafe.loads(fake, 512)[0] == "[" * 2000


def test_a_wide_body_with_many_brackets_is_measured_not_refused() -> None:
    wide = json.dumps([{"id": i, "tags": [i, [i]]} for i in range(5000)]).encode()
    assert len(jsonsafe.loads(wide, 4)) == 5000
    with pytest.raises(jsonsafe.TooDeep):
        jsonsafe.loads(wide, 3)


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":"x\\"[[", "b": "\\\\", "c": ["\\\\\\"]"]}',  # escaped quotes and backslashes
        b'["[[[", "]]]", {"k": "{"}]',
        b'["a", "x[y", "b", ["c"]]',
        b"[" * 20 + b'"' + b"]" * 600 + b'"' + b"]" * 20,
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 3, 19, 20, 21, 512])
def test_the_quick_check_agrees_with_the_value(body: bytes, limit: int) -> None:
    value = json.loads(body)

    def depth(node: Any) -> int:
        children = node.values() if isinstance(node, dict) else node
        if not isinstance(node, dict | list):
            return 0
        return 1 + max((depth(c) for c in children), default=0)

    if depth(value) > limit:
        with pytest.raises(jsonsafe.TooDeep):
            jsonsafe.loads(body, limit)
    else:
        assert jsonsafe.loads(body, limit) == value


def _depth(node: Any) -> int:
    if not isinstance(node, dict | list):
        return 0
    children = node.values() if isinstance(node, dict) else node
    return 1 + max((_depth(c) for c in children), default=0)


def _random_value(rng: random.Random, depth: int, chars: str = "ab[]{} ") -> Any:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice([1, 2.5, None, True, "".join(rng.choices(chars, k=4))])
    width = rng.randint(0, 4) if rng.random() < 0.15 else 1  # mostly chains: stays small
    children = [_random_value(rng, depth - 1, chars) for _ in range(width)]
    if rng.random() < 0.5:
        return children
    return {"".join(rng.choices('k[]{"', k=3)) + str(i): c for i, c in enumerate(children)}


def test_the_check_agrees_with_a_recursive_depth_on_random_bodies() -> None:
    rng = random.Random(10)
    for _ in range(400):
        # strings with brackets; every other body also with quotes and backslashes, which
        # JSON escapes
        value = _random_value(rng, rng.randint(1, 30), rng.choice(["ab[]{} ", 'a[]{}"\\']))
        body = json.dumps(value).encode()
        limit = rng.randint(max(1, _depth(value) - 2), _depth(value) + 1)  # near the edge
        if _depth(value) > limit:
            with pytest.raises(jsonsafe.TooDeep):
                jsonsafe.loads(body, limit)
        else:
            assert jsonsafe.loads(body, limit) == value


def projected(depth: int) -> bytes:
    """A body large enough to be decoded by projection, with a ``depth``-deep value."""
    rows = json.dumps([{"k": i, "pad": "x" * 50} for i in range(2000)]).encode()
    return b'{"rows":' + rows + b',"deep":' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("shape", ['{"n": length(a.rows), "d": a.deep}', '{"n": length(a.rows)}'])
async def test_a_projected_body_past_the_recursion_limit_is_a_clean_source_failure(
    shape: str,
) -> None:
    """Projection bounds nesting by the recursion limit (README): read or not, a body too deep
    for it fails the source, and one between 512 and it is read, never a raw error."""
    async with Recorder(always(ok(projected(5_000)))) as deep, Recorder(
        always(ok(projected(600)))
    ) as fair:
        error = await failure(Function("f", sources={"a": api(deep.url).get("/x")}, shape=shape))
        result = await Function("f", sources={"a": api(fair.url).get("/x")}, shape=shape).invoke()
    assert error.code == "source_failed" and "nested deeper" in error.message
    assert result.data["n"] == 2000
