"""Answer every source of a function (and of the functions it calls) from test code.

Each HTTP source is pointed at its own fake host, so an answer knows which source asked,
not only which backend; `call()` sources to plain callables get a stand-in. The matrix
fails chosen sources this way and the property checks feed generated data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import respx

import sff.http.fetch  # noqa: F401  (loaded before respx patches httpcore: its transport detects the patch)
from sff.function import Function
from sff.plan import Node
from sff.spec import CallSource, HttpSource, Source
from sff.testing.discover import functions_used
from sff.testing.patch import Target, patched_sources, with_base, with_target

DOMAIN = "harness.sff.test"
HttpAnswer = Callable[[Function, str, httpx.Request], httpx.Response]
CallAnswer = Callable[[Function, str], Target | None]


def relative(request: httpx.Request) -> str:
    """The request target as a backend saw it: path and query."""
    return request.url.raw_path.decode()


@contextmanager
def answering(fn: Function, http: HttpAnswer, calls: CallAnswer) -> Iterator[None]:
    """Within the block, ``http(function, source, request)`` answers every HTTP source and
    ``calls(function, source)`` may replace a call source's target (None keeps it)."""
    hosts: dict[str, tuple[Function, str]] = {}
    with ExitStack() as stack:
        for each in functions_used([fn]):
            replace = _replacements(each, hosts, calls)
            stack.enter_context(patched_sources(each, replace))
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        router.route().side_effect = lambda request: http(*hosts[request.url.host], request)
        stack.enter_context(router)
        yield


def _replacements(
    fn: Function, hosts: dict[str, tuple[Function, str]], calls: CallAnswer
) -> dict[str, Callable[[Node], Source]]:
    replace: dict[str, Callable[[Node], Source]] = {}
    for name, node in fn.plan.nodes.items():
        if isinstance(node.source, HttpSource):
            host = f"{len(hosts)}-{_label(fn.name)}--{_label(name)}.{DOMAIN}"
            hosts[host] = (fn, name)
            replace[name] = with_base(f"http://{host}")
        elif isinstance(node.source, CallSource):
            target = calls(fn, name)
            if target is not None:
                replace[name] = with_target(target)
    return replace


def _label(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:20] or "x"


def failing_target(fn: Function, source: str) -> Target:
    async def fail(**kwargs: Any) -> Any:
        raise RuntimeError(f"injected failure of source {source!r} of {fn.name!r}")

    return fail


def value_target(value: Any) -> Target:
    async def answer(**kwargs: Any) -> Any:
        return value

    return answer


def error_response(request: httpx.Request, status: int = 503) -> httpx.Response:
    return httpx.Response(status, json={"error": "injected failure"}, request=request)
