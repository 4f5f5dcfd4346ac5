"""The cold-start floor of any Python handler with this page's contract: asyncio, pydantic
and the two models, one validation and one serialization, and no HTTP, no shaping.

Every variant of the cold-start benchmark pays at least this (the fair hand-written one
too), so it says how much of a cold start a framework can still take away at all.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel


class Todo(BaseModel):
    id: int
    title: str


class Page(BaseModel):
    user: str
    team: str
    todo: Todo


async def invoke() -> bytes:
    data = {"user": "Ada", "team": "core", "todo": {"id": 1, "title": "write"}}
    return Page.model_validate(data).model_dump_json().encode()


if __name__ == "__main__":
    assert asyncio.run(invoke()).startswith(b"{")
