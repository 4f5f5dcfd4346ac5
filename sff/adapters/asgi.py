"""An ASGI 3 application serving Functions by their ``method`` and ``route``: for any HTTP
container (Knative, Cloud Run, a VM)::

    # app.py
    from sff.adapters.asgi import app as sff_app
    from functions.dashboard import dashboard
    app = sff_app(dashboard)               # uvicorn app:app --host 0.0.0.0 --port 8080

A route may hold ``{name}`` segments; they join the input like query parameters.
``resident=True`` (the default here: a server process is long-lived) opens one pooled
client at lifespan startup and closes it at shutdown; ``resident=False`` gives every
request its own client, as on a use-and-destroy FaaS instance.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from sff.adapters import _settings
from sff.adapters._context import clean_request_id, new_request_id
from sff.adapters._errors import MethodNotAllowed, NotFound
from sff.adapters._http import HttpRequest, HttpResponse, header_map
from sff.adapters._serve import error_response, log, serve
from sff.errors import SffError
from sff.inbound import read_body
from sff.routes import compile_route

if TYPE_CHECKING:
    from sff.cache import SafeStore
    from sff.function import Function
    from sff.http.client import Client

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Route:
    def __init__(self, fn: Function) -> None:
        self.fn = fn
        self.method = fn.method
        self.pattern = compile_route(fn.route)

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return None if found is None else found.groupdict()

    def __str__(self) -> str:
        return f"{self.method} {self.fn.route}"


class App:
    """The ASGI application; see `app`."""

    def __init__(self, functions: tuple[Function, ...], *, resident: bool) -> None:
        self.routes = [Route(fn) for fn in functions]
        unique_routes(functions)
        self.resident = resident
        self.client: Client | None = None
        self.store: SafeStore | None = None  # resident: opened by the first function needing it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "http":
            await send_response(send, await self.dispatch(scope, receive))
        else:  # a websocket: not served
            await send({"type": "websocket.close", "code": 1000})

    async def startup(self) -> None:
        """Open the shared client pool (resident mode)."""
        if self.resident and self.client is None:
            from sff.http.client import new_client

            self.client = new_client()

    async def shutdown(self) -> None:
        client, self.client = self.client, None
        store, self.store = self.store, None
        if client is not None:
            await client.aclose()
        if store is not None:
            await store.close()

    def cache_for(self, fn: Function) -> SafeStore | None:
        """Resident: one store for the app's life; otherwise each invocation opens its own."""
        from sff.fallback import cache_url, needs_store

        if not self.resident or not needs_store(fn.plan):
            return None
        if self.store is None:
            from sff.cache import open_store

            self.store = open_store(cache_url())
        return self.store

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def dispatch(self, scope: Scope, receive: Receive) -> HttpResponse:
        settings = _settings.current()
        method, path = scope["method"].upper(), scope["path"]
        request_id = new_request_id()
        try:
            request = HttpRequest(method, path, headers=header_map(decoded(scope["headers"])))
            request_id = clean_request_id(request.headers.get("x-request-id")) or request_id
            request.request_id = request_id
            route, params = self.find(method, path)
            request.query = parse_qsl(scope["query_string"].decode("latin-1"), True)
            request.path_params = params
            if method not in ("GET", "HEAD", "OPTIONS"):
                request.body = await read_body(receive, request.headers, settings.max_body_bytes)
        except SffError as exc:
            response = error_response(exc, request_id)
            if isinstance(exc, MethodNotAllowed):
                response.headers["allow"] = exc.detail["allow"]
            log("-", f"{method} {path}", response, 0.0)
            return response
        if self.resident and self.client is None:
            await self.startup()  # a server that skipped lifespan
        return await serve(
            route.fn, request, settings, client=self.client, cache=self.cache_for(route.fn)
        )

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        matched = [(r, p) for r in self.routes if (p := r.match(path)) is not None]
        if not matched:
            raise NotFound(f"no function at {path[:200]}", routes=[str(r) for r in self.routes])
        for route, params in matched:
            if route.method == method or method == "OPTIONS":
                return route, params
        allow = ", ".join(sorted({r.method for r, _ in matched} | {"OPTIONS"}))
        raise MethodNotAllowed(f"{method} is not allowed at {path[:200]}", allow=allow)


def app(*functions: Function, resident: bool = True) -> App:
    """An ASGI 3 application routing each Function by ``fn.method`` + ``fn.route``."""
    if not functions:
        raise ValueError("app() needs at least one Function")
    return App(functions, resident=resident)


def unique_routes(functions: tuple[Function, ...]) -> None:
    """Two functions on one method and route are an error naming both (and their files):
    a router would otherwise answer every request with whichever it found first."""
    from sff.routes import clashes

    found = clashes([(fn.method, fn.route, f"{fn.name} ({defined_in(fn)})") for fn in functions])
    if found:
        route, first, second = found[0]
        raise ValueError(f"two functions answer {route}: {first} and {second}")


def defined_in(fn: Function) -> str:
    """The file of the module holding `fn` at module level (only looked up on an error)."""
    import sys

    for module in list(sys.modules.values()):
        if any(value is fn for value in vars(module).values()):
            return str(getattr(module, "__file__", None) or module.__name__)
    return "defined outside a module"


def decoded(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


async def send_response(send: Send, response: HttpResponse) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
