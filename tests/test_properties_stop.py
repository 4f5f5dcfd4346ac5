"""A property example that runs out of data stops as hypothesis expects, whichever of the
sources drawing at once reaches the end first (`sff.testing.properties._Drawn`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis.errors import Frozen, StopTest
from pydantic import BaseModel

from sff import Backend, Function
from sff.testing.matrix import happy_data
from sff.testing.properties import _Drawn, _one


class Row(BaseModel):
    id: int


def function() -> Function:
    api = Backend("api", default="http://api.example")
    sources = {f"s{k}": api.get(f"/rows/{k}", response=Row) for k in range(4)}
    shape = {f"s{k}": f"s{k}.id" for k in range(4)}
    return Function("rows", sources=sources, shape=shape)


class Hypothesis:
    """Draws as a hypothesis example does when its data runs out at the second draw: that
    draw raises StopTest, and the example's data is frozen, so any draw after it Frozen."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, strategy: Any, label: str = "") -> Any:
        self.calls += 1
        if self.calls == 2:
            raise StopTest(0)
        if self.calls > 2:
            raise Frozen("Cannot call draw on frozen data")
        return {"id": 1}


def test_every_draw_after_the_one_that_stopped_the_example_stops_it_too() -> None:
    fn = function()
    drawn = _Drawn(fn, happy_data(fn, None), Hypothesis())
    drawn._draw(None, "first")
    with pytest.raises(StopTest) as first:
        drawn._draw(None, "second")
    with pytest.raises(StopTest) as later:
        drawn._draw(None, "third")
    assert later.value is first.value


@pytest.mark.parametrize("run", range(5))
def test_an_invocation_whose_sources_draw_past_the_end_stops_and_never_crashes(run: int) -> None:
    """Four sources answered at once through the harness: the second draw stops the example,
    and the invocation must end in that StopTest, not in a later source's Frozen (which the
    property check reports as a crash)."""
    fn = function()
    drawn = _Drawn(fn, happy_data(fn, None), Hypothesis())
    with pytest.raises(StopTest):
        asyncio.run(_one(fn, {}, drawn))
