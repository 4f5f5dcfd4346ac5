"""The degradation matrix fails part of a source: one chunk of a batch, page 2 of a list."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from sff import Backend, Batch, Fallback, Function, Paginate, Result, SourceError
from sff.testing import DegradationFailure, check_degradation
from sff.testing.casefile import Exchange
from sff.testing.matrix import HappyData, scenarios

api = Backend("api", env="SFFM_API")


class Named(BaseModel):
    first: str


def batched(**options: object) -> Function:
    return Function(
        "batched",
        sources={
            "people": api.get(
                "/users",
                query={"id": "item"},
                each="input.ids",
                batch=Batch(size=2),
                **options,  # type: ignore[arg-type]
            )
        },
        shape={"first": "people[0].name"},
        contract=Named,
    )


def people(fn: Function) -> HappyData:
    answer = [{"id": i, "name": f"user {i}"} for i in (1, 2, 3)]
    return HappyData({"ids": [1, 2, 3]}, guesses={(fn.name, "people"): answer}, searched=True)


def test_batch_and_paginate_sources_get_a_part_failing_cell() -> None:
    fn = batched(tolerate=2)
    feed = Function(
        "feed",
        sources={"events": api.get("/e", paginate=Paginate.link(), fallback=Fallback.omit())},
    )
    assert [c.label for c in scenarios(fn)][-1] == "people.chunk"
    assert [c.failing for c in scenarios(feed)][-1] == ("events.page",)


def test_a_failing_chunk_of_a_required_source_is_a_clean_502() -> None:
    fn = batched()
    answer = check_degradation(fn, ["people.chunk"], people(fn))
    assert isinstance(answer, SourceError) and answer.source == "people"
    assert "1 of 3 items failed" not in answer.message and "2 of 3 items failed" in answer.message


def test_a_failing_chunk_whose_items_the_shape_does_not_survive_is_caught() -> None:
    fn = batched(tolerate=2)
    with pytest.raises(DegradationFailure, match="people"):
        check_degradation(fn, ["people.chunk"], people(fn))


def test_a_failing_chunk_with_an_item_fallback_degrades() -> None:
    fn = batched(item_fallback=Fallback.value({"id": 0, "name": "someone"}))
    answer = check_degradation(fn, ["people.chunk"], people(fn))
    assert isinstance(answer, Result)
    meta = answer.meta.sources["people"]
    assert (meta.outcome, meta.failed_items) == ("degraded", 2)
    assert answer.json() == {"first": "someone"}


def test_page_two_failing_degrades_for_reason_pages() -> None:
    fn = Function(
        "feed",
        sources={"events": api.get("/e", paginate=Paginate.cursor("next", items="items"))},
        shape={"count": "length(events)"},
    )
    data = HappyData({}, guesses={("feed", "events"): {"items": [1], "next": "a"}}, searched=True)
    answer = check_degradation(fn, ["events.page"], data)
    assert isinstance(answer, Result) and answer.json() == {"count": 1}
    assert answer.meta.sources["events"].degraded == "pages"


def test_page_two_failing_on_a_source_that_must_be_complete_is_a_clean_502() -> None:
    paged = Paginate.cursor("next", items="items", complete=True)
    fn = Function("feed", sources={"events": api.get("/e", paginate=paged)})
    pages = [("/e", {"items": [1], "next": "a"}), ("/e?cursor=a", {"items": [2], "next": None})]
    data = HappyData({}, [Exchange("api", "GET", p, None, 200, {}, body) for p, body in pages])
    assert check_degradation(fn, [], data).json() == {"events": [1, 2]}  # type: ignore[union-attr]
    answer = check_degradation(fn, ["events.page"], data)
    assert isinstance(answer, SourceError) and "must be complete" in answer.message


def test_a_list_of_one_page_has_no_page_two_to_fail() -> None:
    fn = Function(
        "feed",
        sources={"events": api.get("/e", paginate=Paginate.cursor("next", items="items"))},
    )
    data = HappyData({}, guesses={("feed", "events"): {"items": [1], "next": None}}, searched=True)
    answer = check_degradation(fn, ["events.page"], data)
    assert isinstance(answer, Result) and answer.meta.sources["events"].outcome == "ok"
