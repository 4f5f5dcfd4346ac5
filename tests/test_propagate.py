"""`propagate=(404, 410)` on a required source: its status is the answer's, with a code of
its own and a fixed message; never retried, never counted by the circuit breaker; a
declaration mistake is loud. Through the kit's mocked backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from sff import Backend, Circuit, DeclarationError, Fallback, Function, Retry, SourceError, call
from sff.cache import MemoryStore
from sff.openapi import document
from sff.propagate import CODES, PropagatedError
from sff.testing import MockBackends, ainvoke
from sff.testing.matrix import (
    DegradationFailure,
    HappyData,
    acheck_degradation,
    scenarios,
    verdict,
)

catalog = Backend("catalog", env="SFFT_CATALOG_API")


def product_page(**options: object) -> Function:
    return Function(
        "product_page",
        sources={
            "product": catalog.get("/products/{input.id}", propagate=(404, 410), **options),
        },
        shape={"name": "product.name"},
    )


@pytest.mark.parametrize(("status", "code"), [(404, "not_found"), (410, "gone")])
async def test_a_propagated_status_is_the_answer_with_its_own_code(status: int, code: str) -> None:
    fn = product_page()
    with MockBackends([fn]) as backends:
        backends.catalog.get("/products/99").respond(
            status, json={"error": "product 99 is in warehouse db-7 (internal)"}
        )
        error = await ainvoke(fn, {"id": 99})

    assert isinstance(error, PropagatedError)
    assert (error.status, error.code) == (status, code)
    assert error.to_dict()["error"] == {
        "code": code,
        "message": f"{code.replace('_', ' ')}: source 'product' answered HTTP {status}",
        "source": "product",
        "upstream_status": status,
    }
    assert "db-7" not in str(error.to_dict())  # the backend's body is never echoed
    assert error.meta.sources["product"].outcome == "failed"


async def test_a_status_not_listed_is_still_a_502() -> None:
    fn = product_page()
    with MockBackends([fn]) as backends:
        backends.catalog.get("/products/1").fail(403)
        answer = await ainvoke(fn, {"id": 1})
    assert isinstance(answer, SourceError)
    assert (answer.status, answer.code) == (502, "source_failed")


async def test_a_propagated_status_is_not_retried_even_when_the_policy_lists_it() -> None:
    fn = Function(
        "f",
        sources={
            "p": catalog.get(
                "/p", propagate=(404, 429), retry=Retry(retries=3, statuses={404, 429, 503})
            )
        },
        shape="p",
    )
    with MockBackends([fn]) as backends:
        route = backends.catalog.get("/p").fail(429)
        answer = await ainvoke(fn)
    assert isinstance(answer, PropagatedError)
    assert (answer.status, answer.code) == (429, "too_many_requests")
    assert route.call_count == 1


async def test_a_propagated_status_does_not_count_against_the_circuit() -> None:
    guarded = Backend("guarded", env="SFFT_GUARDED_API", circuit=Circuit(failures=1))
    fn = Function("f", sources={"p": guarded.get("/p", propagate=(429,))}, shape="p")
    store = MemoryStore()
    with MockBackends([fn]) as backends:
        route = backends.guarded.get("/p").sequence(429, 429, {"ok": True})
        for _ in range(2):
            with pytest.raises(PropagatedError):
                await fn.invoke(cache=store)
        result = await fn.invoke(cache=store)
    assert result.data == {"ok": True}
    assert route.call_count == 3  # a counted 429 would have opened it after the first


@pytest.mark.parametrize("status", [200, 204, 302, 304, 500, 503, 499, 999])
def test_listing_a_status_that_is_not_a_client_error_is_a_declaration_error(status: int) -> None:
    with pytest.raises(DeclarationError, match=f"propagate= lists {status}"):
        catalog.get("/p", propagate=(status,))


def test_a_propagating_source_with_a_fallback_is_a_declaration_error_with_its_line() -> None:
    with pytest.raises(DeclarationError) as raised:
        Function(
            "f",
            sources={
                "p": catalog.get("/p", propagate=(404,), fallback=Fallback.omit()),
            },
            shape="p",
        )
    error = raised.value
    assert "propagate=(404) on a source with a fallback" in error.message
    assert error.location is not None
    assert Path(error.location[0]).name == "test_propagate.py"
    line = Path(__file__).read_text().splitlines()[error.location[1] - 1]
    assert '"p": catalog.get("/p", propagate=(404,)' in line


def test_propagate_on_each_or_on_a_call_source_is_a_declaration_error() -> None:
    async def lookup() -> dict[str, int]:
        return {}

    with pytest.raises(DeclarationError, match="`each` source"):
        Function("f", sources={"p": catalog.get("/p/{item}", each="[`1`]", propagate=404)})
    with pytest.raises(DeclarationError, match="for HTTP sources"):
        call(lookup, propagate=(404,))
    with pytest.raises(DeclarationError, match="not a status"):
        catalog.get("/p", propagate=("404",))


def test_openapi_lists_the_propagated_statuses_of_the_function() -> None:
    responses = document([product_page()])["paths"]["/product_page"]["get"]["responses"]
    assert "404" in responses and "410" in responses
    assert "not_found" in responses["404"]["description"]
    assert "502" in responses  # other failures of the source are still 502


def test_every_code_is_a_4xx_with_a_snake_case_name() -> None:
    assert all(400 <= s < 500 and CODES[s].islower() and " " not in CODES[s] for s in CODES)


async def test_the_matrix_expects_a_propagated_status_as_the_answer() -> None:
    fn = product_page()
    cells = {cell.label: cell for cell in scenarios(fn)}
    assert {"product", "product=404", "product=410"} <= set(cells)
    data = HappyData(input={"id": 1})
    answer = await acheck_degradation(fn, ("product",), data, status=404)
    assert isinstance(answer, PropagatedError) and answer.status == 404
    with pytest.raises(DegradationFailure, match="propagates"):
        verdict(fn, ("product",), SourceError("product", "HTTP 404", status=404), 404)
