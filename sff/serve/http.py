"""Just enough HTTP/1.1 over asyncio streams for a local gateway: keep-alive, a
Content-Length body, and a clear 4xx for anything else."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 6 * 1024 * 1024  # a FaaS platform's usual synchronous payload limit
REASONS = {s.value: s.phrase for s in HTTPStatus}


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""
    keep_alive: bool = True


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})

    def encode(self, keep_alive: bool) -> bytes:
        head = [f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Unknown')}"]
        head += [f"{name}: {value}" for name, value in self.headers.items()]
        head.append(f"content-length: {len(self.body)}")
        head.append("connection: keep-alive" if keep_alive else "connection: close")
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace") + self.body


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), default=str).encode()
    return Response(status, body, {"content-type": "application/json", **(headers or {})})


def error_response(status: int, code: str, message: str, **detail: Any) -> Response:
    return json_response(status, {"error": {"code": code, "message": message, **detail}})


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on the connection; None when the client has closed it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise HttpError(400, "incomplete request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise HttpError(431, "request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = _request_line(lines[0])
    headers = _headers(lines[1:])
    request = _request(method, target, headers)
    request.keep_alive = _keep_alive(version, headers)
    request.body = await _body(reader, headers)
    return request


def _request_line(line: str) -> tuple[str, str, str]:
    parts = line.split(" ")
    if len(parts) != 3 or not parts[1].startswith("/") or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, "malformed request line")
    return parts[0].upper(), parts[1], parts[2]


def _headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HttpError(400, "malformed header line")
        key, value = name.lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _request(method: str, target: str, headers: dict[str, str]) -> Request:
    raw_path, _, raw_query = target.partition("?")
    query = parse_qsl(raw_query, keep_blank_values=True, errors="replace")
    return Request(method, unquote(raw_path, errors="replace"), query, headers)


def _keep_alive(version: str, headers: dict[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    return "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "transfer-encoding" in headers:
        raise HttpError(411, "send the body with a Content-Length")
    declared = headers.get("content-length", "0").strip() or "0"
    if not declared.isdigit():
        raise HttpError(400, "invalid Content-Length")
    size = int(declared)
    if size > MAX_BODY_BYTES:
        raise HttpError(413, f"request body over the {MAX_BODY_BYTES}-byte limit")
    try:
        return await reader.readexactly(size) if size else b""
    except asyncio.IncompleteReadError:
        raise HttpError(400, "incomplete request body") from None
