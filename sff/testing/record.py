"""Record a case: invoke a function once against its REAL backends and write what each
backend was asked and answered, and what the function returned."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from sff import secrets
from sff.errors import SffError
from sff.function import Function
from sff.spec import Backend
from sff.testing.casefile import Case, Exchange, kept_headers
from sff.testing.discover import backends_of, functions_used
from sff.testing.patch import (
    Target,
    callable_sources,
    http_sources,
    patched_sources,
    with_header,
    with_target,
)
from sff.testing.scrub import case_name, scrub_case

DEFAULT_DIR = Path("tests/cases")
MARK = "x-sff-recording-backend"  # set on each source's requests, removed before sending


class RecordingTransport(httpx.AsyncBaseTransport):
    """Sends every request for real and keeps a copy of it and of its answer."""

    def __init__(self, backends: Mapping[str, list[Backend]]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.backends = backends
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = request.headers.pop(MARK, None)
        response = await self.inner.handle_async_request(request)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        self.exchanges.append(await self._exchange(name, request, response, raw))
        return httpx.Response(
            response.status_code, headers=response.headers, content=raw, request=request
        )

    async def _exchange(
        self, name: str | None, request: httpx.Request, response: httpx.Response, raw: bytes
    ) -> Exchange:
        decoded = httpx.Response(response.status_code, headers=response.headers, content=raw)
        await decoded.aread()
        backend, path = self.locate(name, request.url)
        body = json.loads(request.content) if request.content else None
        exchange = Exchange(
            backend,
            request.method,
            path,
            body,
            response.status_code,
            kept_headers(response.headers),
        )
        try:
            exchange.json = json.loads(decoded.content) if decoded.content.strip() else None
        except ValueError:
            exchange.text = decoded.content.decode("utf-8", "replace")
        return exchange

    def locate(self, name: str | None, url: httpx.URL) -> tuple[str, str]:
        """Which backend a URL belongs to, and the URL relative to its base."""
        full = str(url)
        for each, backends in self.backends.items():
            if name is not None and each != name:
                continue
            for backend in backends:
                base = (backend.base_url() or "").rstrip("/")
                if base and full.startswith(base + "/"):
                    return each, full[len(base) :]
        raise ValueError(f"recorded a request to {url.host}, which no declared backend owns")

    async def aclose(self) -> None:
        await self.inner.aclose()


def _recorder(key: str, target: Target, calls: dict[str, list[Any]]) -> Target:
    async def record(**kwargs: Any) -> Any:
        value = await target(**kwargs)
        dumped = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
        calls.setdefault(key, []).append(dumped)
        return value

    return record


async def arecord_case(
    fn: Function,
    input: Any = None,
    *,
    out_dir: Path | str = DEFAULT_DIR,
    name: str | None = None,
    headers: Mapping[str, str] | None = None,
    allow_degraded: bool = False,
    force: bool = False,
    report: list[str] | None = None,
) -> Path:
    """Invoke ``fn`` once for real; write ``out_dir/<function>/<name>.json``
    (``name``, else `sff.testing.scrub.case_name`), redacted by `scrub_case`. Backend base
    URLs come from the environment, as in production. A failed or degraded run, or an
    existing case, raises `RecordRefused` unless ``allow_degraded`` / ``force``; with
    ``report``, a summary of what was recorded is appended to it."""
    from sff.testing.keep import judge_overwrite, judge_run, summary

    meta = None
    transport = RecordingTransport(backends_of([fn]))
    calls: dict[str, list[Any]] = {}
    case = Case(fn.name, input, dict(headers or {}))
    with ExitStack() as stack:
        for each in functions_used([fn]):
            replace = {
                s: with_target(_recorder(f"{each.name}.{s}", _target(each, s), calls))
                for s in callable_sources(each)
            }
            for s in http_sources(each):
                replace[s] = with_header(MARK, _backend(each, s))
            stack.enter_context(patched_sources(each, replace))
        seen = stack.enter_context(secrets.scope(headers))  # what to redact afterwards
        async with httpx.AsyncClient(transport=transport) as client:
            try:
                result = await fn.invoke(input, headers=headers, client=client)
                case.output, meta = result.json(), result.meta
            except SffError as exc:
                case.error = {"status": exc.status, "code": exc.code, "message": exc.message}
                meta = exc.meta
    case.exchanges, case.calls = transport.exchanges, calls
    scrub_case(case, transport.backends, seen.all())  # before the diff and the save
    path = Path(out_dir) / fn.name / f"{case_name(input, name)}.json"
    judge_run(case, meta, allow_degraded=allow_degraded)
    judge_overwrite(case, path, force=force)
    saved = case.save(path)
    if report is not None:
        report.append(summary(case, saved, meta.sources if meta is not None else None))
    return saved


def record_case(
    fn: Function,
    input: Any = None,
    *,
    out_dir: Path | str = DEFAULT_DIR,
    name: str | None = None,
    headers: Mapping[str, str] | None = None,
    **policy: Any,
) -> Path:
    """`arecord_case` for scripts and the ``sff record`` command."""
    return asyncio.run(
        arecord_case(fn, input, out_dir=out_dir, name=name, headers=headers, **policy)
    )


def _backend(fn: Function, source: str) -> str:
    return fn.plan.nodes[source].source.backend.name  # type: ignore[union-attr]


def _target(fn: Function, source: str) -> Target:
    target = fn.plan.nodes[source].source.target  # type: ignore[union-attr]
    assert callable(target)
    return target
