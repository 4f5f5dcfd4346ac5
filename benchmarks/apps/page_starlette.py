"""The page as a hand-written Starlette endpoint over one shared httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from benchmarks.apps.page_hand import page

client: httpx.AsyncClient | None = None


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global client
    async with httpx.AsyncClient() as shared:
        client = shared
        yield


async def endpoint(request: Request) -> Response:
    assert client is not None
    return Response(await page(client), media_type="application/json")


app = Starlette(routes=[Route("/page", endpoint)], lifespan=lifespan)
