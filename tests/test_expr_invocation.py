"""Expressions inside an invocation: every place an expression fails goes through the same
failure -> fallback rules, and no result shares a value with anything that outlives it."""

from __future__ import annotations

from typing import Any

import pytest
import respx
from pydantic import BaseModel

from sff import Backend, Fallback, Function, Retry, call
from sff.cache import MemoryStore
from sff.errors import SffError
from sff.expr import EvaluationError

# Nothing listens on port 9: a request that were sent would fail as a transport error,
# but every failing expression below fails before any request is made.
api = Backend("api", default="http://127.0.0.1:9")
MIXED = {"xs": [{"k": 1}, {"k": "a"}]}  # max_by over these keys fails: number vs string


async def answer() -> dict[str, Any]:
    return {"id": 1}


SPARE = Fallback.value({"spare": True})


@pytest.mark.parametrize(
    "source",
    [
        call(answer, when="max_by(input.xs, &k)", fallback=SPARE),
        call(answer, each="sort_by(input.xs, &k)", fallback=SPARE),
        call(answer, args={"x": "max_by(input.xs, &k)"}, fallback=SPARE),
        api.get("/u/{max_by(input.xs, &k).k}", fallback=SPARE),
        api.get("/u", query={"k": "min_by(input.xs, &k)"}, fallback=SPARE),
        api.get("/u", headers={"x-k": "sort_by(input.xs, &k)"}, fallback=SPARE),
        api.post("/u", body={"k": "max_by(input.xs, &k)"}, fallback=SPARE),
        api.post("/u", body={"k": "'a'"}, idempotency_key="max_by(input.xs, &k)", fallback=SPARE),
    ],
    ids=["when", "each", "call args", "path", "query", "header", "body", "idempotency key"],
)
async def test_a_failing_expression_falls_back_like_any_failure(source: Any) -> None:
    fn = Function("f", sources={"s": source})
    result = await fn.invoke(MIXED)
    assert result.data == {"s": {"spare": True}}
    meta = result.meta.sources["s"]
    # the value stands in; the reason says an expression failed, not the backend
    assert meta.outcome == "degraded" and meta.degraded == "expression"
    assert (
        "max_by() key" in (meta.error or "")
        or "min_by() key" in (meta.error or "")
        or ("sort_by() key" in (meta.error or ""))
    )


async def test_a_failing_expression_without_fallback_is_expression_failed() -> None:
    fn = Function("f", sources={"s": call(answer, when="max_by(input.xs, &k)")})
    with pytest.raises(EvaluationError) as caught:
        await fn.invoke(MIXED)
    assert caught.value.code == "expression_failed" and caught.value.status == 502
    assert caught.value.detail["expression"] == "max_by(input.xs, &k)"
    assert caught.value.detail["where"] == "source 's' when"


async def test_a_failing_shape_is_expression_failed() -> None:
    fn = Function("f", sources={"s": call(answer)}, shape={"k": "sort_by(input.xs, &k)"})
    with pytest.raises(EvaluationError) as caught:
        await fn.invoke(MIXED)
    assert caught.value.detail["where"] == "shape.k"
    assert "sort_by() key of item 1 is string" in caught.value.message


def test_the_handler_answers_a_failing_expression_with_502_expression_failed() -> None:
    fn = Function("f", shape="max_by(input.xs, &k)")
    response = fn.handler(MIXED)
    assert response["statusCode"] == 502
    assert '"expression_failed"' in response["body"] and "max_by()" in response["body"]


# -- results share nothing -------------------------------------------------------------------

KEPT = {"tags": ["a"]}  # an object a callable keeps and hands back every time


async def kept() -> dict[str, Any]:
    return KEPT


async def broken() -> None:
    raise RuntimeError("down")


class Loose(BaseModel):
    lit: Any
    kept: Any
    spare: Any
    listed: list[Any]


@pytest.mark.parametrize("contract", [None, Loose], ids=["plain", "contract with Any fields"])
async def test_mutating_one_result_changes_nothing_in_the_next(contract: Any) -> None:
    spare = Fallback.value({"tags": ["s"]})
    fn = Function(
        "f",
        sources={"k": call(kept), "b": call(broken, fallback=spare)},
        shape={"lit": '`{"tags": ["a"]}`', "kept": "k", "spare": "b", "listed": "`[[1]]`"},
        contract=contract,
    )
    first = await fn.invoke()
    data = first.data  # the contract instance's own attributes, when there is a contract
    if contract is not None:
        data = {n: getattr(first.data, n) for n in ("lit", "kept", "spare", "listed")}
    data["lit"]["tags"].append("leak")
    data["kept"]["tags"].append("leak")
    data["spare"]["tags"].append("leak")
    data["listed"][0].append("leak")
    second = (await fn.invoke()).json()
    assert second == {
        "lit": {"tags": ["a"]},
        "kept": {"tags": ["a"]},
        "spare": {"tags": ["s"]},
        "listed": [[1]],
    }
    assert KEPT == {"tags": ["a"]} and spare.data == {"tags": ["s"]}


async def test_an_error_from_an_expression_is_an_sff_error_never_a_python_one() -> None:
    fn = Function(
        "f",
        shape={"a": "input.n < input.s", "b": "contains(`[1]`, `true`)", "c": "input.xs[1:]"},
    )
    result = await fn.invoke({"n": 1, "s": "x", "xs": [1, 2]})
    assert result.data == {"a": None, "b": False, "c": [2]}
    with pytest.raises(EvaluationError, match="contains"):
        await Function("c", shape="contains('foobar', `123`)").invoke()
    with pytest.raises(SffError):
        await Function("g", shape="max_by(input.xs, &k)").invoke(MIXED)


async def test_a_cached_copy_is_parsed_afresh_for_every_invocation() -> None:
    cached = Backend("cached", default="http://api.test", retry=Retry.none())
    step = Fallback.cache(max_stale="1h", fresh="1h")
    fn = Function("f", sources={"t": cached.get("/t", fallback=step)}, shape={"tags": "t.tags"})
    store = MemoryStore()
    with respx.mock() as router:
        route = router.get("http://api.test/t").respond(200, json={"tags": ["a"]})
        (await fn.invoke(cache=store)).data["tags"].append("leak")  # the network answer
        (await fn.invoke(cache=store)).data["tags"].append("leak")  # served from the cache
        third = await fn.invoke(cache=store)  # from the cache again
    assert route.call_count == 1
    assert third.data == {"tags": ["a"]}
