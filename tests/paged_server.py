"""A third-party-style API on loopback (Starlette under uvicorn): batch and paged routes
written the way other frameworks write them, with its own request log.

Routes::

    POST /v1/people:batch       {"ids": [1, 2]} -> [{"id": "1", ...}] (ids as strings; every
                                seventh person is unknown and left out)
    GET  /v1/people/bad         a batch answer whose items lack "id"; ``?x=1``: an object
                                that is not keyed by id
    GET  /v1/items?page=&limit= the array, ``Link`` with absolute URLs (next, last)
    GET  /v1/items/away         page 1, then a ``Link`` to another origin
    GET  /v1/feed?after=        {"results": [...], "paging": {"next": ...}}; ``?loop=1``
                                gives the same cursor again on page 2
    GET  /v1/flaky?page=        page 2 answers 503
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ITEMS = [{"n": i} for i in range(1, 24)]  # 23 items: pages of 10 end with a short one
log: list[str] = []


def _logged(request: Request) -> None:
    log.append(f"{request.method} {request.url.path}?{request.url.query}")


async def people_batch(request: Request) -> JSONResponse:
    _logged(request)
    ids = (await request.json())["ids"]
    return JSONResponse([{"id": str(i), "name": f"person {i}"} for i in ids if int(i) % 7])


async def people_bad(request: Request) -> JSONResponse:
    _logged(request)
    return (
        JSONResponse({"error": "not a batch"})
        if "x" in request.query_params
        else JSONResponse([{"name": "no id"}])
    )


def _page(request: Request) -> tuple[int, int]:
    return int(request.query_params.get("page", "1")), int(request.query_params.get("limit", "10"))


async def items(request: Request) -> JSONResponse:
    _logged(request)
    page, limit = _page(request)
    chunk = ITEMS[(page - 1) * limit : page * limit]
    base = str(request.url.replace(query=""))
    links = [f'<{base}?page={-(-len(ITEMS) // limit)}&limit={limit}>; rel="last"']
    if page * limit < len(ITEMS):
        links.insert(0, f'<{base}?page={page + 1}&limit={limit}>; rel="next"')
    return JSONResponse(chunk, headers={"link": ", ".join(links)})


async def items_away(request: Request) -> JSONResponse:
    _logged(request)
    return JSONResponse(
        ITEMS[:10], headers={"link": '<http://127.0.0.2:9/v1/items?page=2>; rel="next"'}
    )


async def feed(request: Request) -> JSONResponse:
    _logged(request)
    start = int(request.query_params.get("after", "0"))
    chunk = ITEMS[start : start + 10]
    following: Any = str(start + 10) if start + 10 < len(ITEMS) else None
    if "loop" in request.query_params and start:
        following = str(start)  # a broken API: the cursor it was given, again
    return JSONResponse({"results": chunk, "paging": {"next": following}})


async def flaky(request: Request) -> JSONResponse:
    _logged(request)
    page, limit = _page(request)
    if page == 2:
        return JSONResponse({"error": "down"}, status_code=503)
    return JSONResponse(ITEMS[(page - 1) * limit : page * limit])


app = Starlette(
    routes=[
        Route("/v1/people:batch", people_batch, methods=["POST"]),
        Route("/v1/people/bad", people_bad),
        Route("/v1/items", items),
        Route("/v1/items/away", items_away),
        Route("/v1/feed", feed),
        Route("/v1/flaky", flaky),
    ]
)
