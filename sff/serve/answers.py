"""The gateway's own answers (JSON errors, pages) and how one goes out over ASGI."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sff.inbound import HttpResponse

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    body = json.dumps(data, separators=(",", ":"), default=str).encode()
    return HttpResponse(status, {"content-type": "application/json", **(headers or {})}, body)


def error_response(status: int, code: str, message: str, **detail: Any) -> HttpResponse:
    return json_response(status, {"error": {"code": code, "message": message, **detail}})


def html_response(text: str) -> HttpResponse:
    headers = {"content-type": "text/html; charset=utf-8", "cache-control": "no-store"}
    return HttpResponse(200, headers, text.encode())


async def send_response(send: Send, response: HttpResponse, *, head_only: bool = False) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head_only else response.body})
