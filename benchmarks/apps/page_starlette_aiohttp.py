"""The page as a hand-written Starlette endpoint over one shared aiohttp session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from benchmarks.apps.page_aiohttp import page

session: aiohttp.ClientSession | None = None


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global session
    async with aiohttp.ClientSession() as shared:
        session = shared
        yield


async def endpoint(request: Request) -> Response:
    assert session is not None
    return Response(await page(session), media_type="application/json")


app = Starlette(routes=[Route("/page", endpoint)], lifespan=lifespan)
