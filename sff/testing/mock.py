"""Mocked backends by name: a thin layer over respx.

Each backend gets a fake base URL, ``http://<name>.sff.test``, written to the environment
variable its declaration reads, so a function under test calls the mock without knowing
it. Routes answer with JSON or with a fault: an HTTP error, a timeout, a slow answer, a
body that is not JSON, or a sequence of those.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import respx

import sff.http.fetch  # noqa: F401  (loaded before respx patches httpcore: its transport detects the patch)
from sff.function import Function
from sff.spec import Backend
from sff.testing.discover import backends_of

FAKE_DOMAIN = "sff.test"
CACHE_ENV = "SFF_CACHE_URL"
Answer = Callable[[httpx.Request], httpx.Response]
AnswerSpec = int | str | dict[str, Any] | list[Any] | httpx.Response
_UNSET: Any = object()
_PLACEHOLDER = re.compile(r"\{[^{}/]*\}")


class SffTestingWarning(UserWarning):
    """A test set-up that is probably a mistake, e.g. mocking a backend nothing uses."""


class UnmockedRequest(AssertionError):
    """A function under test called a backend URL that no mock route answers."""


def fake_base(name: str) -> str:
    host = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "backend"
    return f"http://{host}.{FAKE_DOMAIN}"


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> Answer:
    return lambda request: httpx.Response(status, json=data, headers=headers, request=request)


def _error(status: int) -> Answer:
    return json_response(status, {"error": f"mocked HTTP {status}"})


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("mocked timeout", request=request)


def _malformed(request: httpx.Request) -> httpx.Response:
    headers = {"content-type": "application/json"}
    return httpx.Response(200, content=b'{"truncated": [1, 2', headers=headers, request=request)


class MockRoute:
    """One mocked endpoint. Every method returns the route, so calls chain:
    ``backends.users.get("/users/1").respond(json=user).sequence(503, 200)``."""

    def __init__(self, route: Any, label: str) -> None:
        self._route = route
        self.label = label
        self._ok: Answer = json_response(200, {})
        self._answers: list[Answer] = [self._ok]
        self._served = 0
        self._delay = 0.0
        route.side_effect = self._answer

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        if self._delay:
            await asyncio.sleep(self._delay)
        answer = self._answers[min(self._served, len(self._answers) - 1)]
        self._served += 1
        return answer(request)

    def respond(
        self,
        status: int = 200,
        *,
        json: Any = _UNSET,
        text: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> MockRoute:
        """Answer with JSON (or raw text). The default answer is ``200 {}``."""
        if text is not None:
            body = text.encode()
            self._ok = lambda r: httpx.Response(status, content=body, headers=headers, request=r)
        else:
            self._ok = json_response(status, {} if json is _UNSET else json, headers)
        return self._set([self._ok])

    def fail(self, status: int = 503) -> MockRoute:
        """Answer an HTTP error with a small JSON error body."""
        return self._set([_error(status)])

    def timeout(self) -> MockRoute:
        """Raise a read timeout at once (no real waiting)."""
        return self._set([_timeout])

    def malformed(self) -> MockRoute:
        """Answer 200 with a body that is not valid JSON."""
        return self._set([_malformed])

    def slow(self, seconds: float) -> MockRoute:
        """Wait ``seconds`` before every answer: long enough, it trips the source's timeout."""
        self._delay = seconds
        return self

    def sequence(self, *answers: AnswerSpec) -> MockRoute:
        """One answer per call, the last one repeating: an int is a status (2xx gives the
        `respond` body), ``"timeout"`` and ``"malformed"`` are faults, a dict or list is a
        200 JSON body, an `httpx.Response` is sent as is."""
        if not answers:
            raise ValueError(f"{self.label}: sequence() needs at least one answer")
        return self._set([self._spec(a) for a in answers])

    def _spec(self, answer: AnswerSpec) -> Answer:
        if isinstance(answer, httpx.Response):
            return lambda request: answer
        if isinstance(answer, bool):
            raise ValueError(f"{self.label}: not an answer: {answer!r}")
        if isinstance(answer, int):
            return self._ok if 200 <= answer < 300 else _error(answer)
        if answer == "timeout":
            return _timeout
        if answer == "malformed":
            return _malformed
        if isinstance(answer, dict | list):
            return json_response(200, answer)
        raise ValueError(f"{self.label}: not an answer: {answer!r}")

    def _set(self, answers: list[Answer]) -> MockRoute:
        self._answers, self._served = answers, 0
        return self

    @property
    def calls(self) -> list[httpx.Request]:
        """The requests this route answered, in order."""
        return [call.request for call in self._route.calls]

    @property
    def call_count(self) -> int:
        return int(self._route.call_count)

    @property
    def called(self) -> bool:
        return self.call_count > 0

    def __repr__(self) -> str:
        return f"<MockRoute {self.label} calls={self.call_count}>"


class MockBackend:
    """The mock of one backend, reached as ``backends.<name>``."""

    def __init__(self, name: str, base: str, router: Any) -> None:
        self.name, self.base, self._router = name, base.rstrip("/"), router
        self.routes: list[MockRoute] = []

    def route(self, method: str, path: str, **lookups: Any) -> MockRoute:
        """Mock ``METHOD path``. A path without ``?`` matches any query; ``?a=1`` (or
        ``params={"a": "1"}``) requires those parameters; ``{x}`` matches one segment."""
        if not path.startswith("/"):
            raise ValueError(f"backends.{self.name}: path must start with '/': {path!r}")
        parts = urlsplit(self.base + path)
        pattern: dict[str, Any] = {"method": method.upper(), "scheme": parts.scheme}
        pattern["host"] = parts.hostname
        if parts.port:
            pattern["port"] = parts.port
        if _PLACEHOLDER.search(parts.path):
            segments = _PLACEHOLDER.split(parts.path)
            pattern["path__regex"] = "^" + "[^/]+".join(map(re.escape, segments)) + "$"
        else:
            pattern["path"] = parts.path
        if parts.query:
            pattern["params"] = dict(parse_qsl(parts.query, keep_blank_values=True))
        route = self._router.route(**pattern, **lookups)
        _first(self._router, route)
        mock = MockRoute(route, f"{method.upper()} {path}")
        self.routes.append(mock)
        return mock

    def get(self, path: str, **lookups: Any) -> MockRoute:
        return self.route("GET", path, **lookups)

    def head(self, path: str, **lookups: Any) -> MockRoute:
        return self.route("HEAD", path, **lookups)

    def post(self, path: str, **lookups: Any) -> MockRoute:
        return self.route("POST", path, **lookups)

    def put(self, path: str, **lookups: Any) -> MockRoute:
        return self.route("PUT", path, **lookups)

    def patch(self, path: str, **lookups: Any) -> MockRoute:
        return self.route("PATCH", path, **lookups)

    def delete(self, path: str, **lookups: Any) -> MockRoute:
        return self.route("DELETE", path, **lookups)

    @property
    def calls(self) -> list[httpx.Request]:
        """Every request any route of this backend answered, in order."""
        return [call.request for route in self.routes for call in route._route.calls]

    def __repr__(self) -> str:
        return f"<MockBackend {self.name} {self.base} routes={len(self.routes)}>"


def _first(router: Any, route: Any) -> None:
    """The latest mock wins: a test overrides a general route with a specific one."""
    routes: list[Any] = router.routes._routes  # respx keeps no public way to reorder
    routes.remove(route)
    routes.insert(0, route)


class _Router(respx.MockRouter):
    """A respx router whose miss names the backend, the method and the URL."""

    def __init__(self, owner: MockBackends) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True)
        self._owner = owner

    def resolve(self, request: httpx.Request) -> Any:
        try:
            return super().resolve(request)
        except respx.models.AllMockedAssertionError:
            raise self._owner.unmocked_request(request) from None

    async def aresolve(self, request: httpx.Request) -> Any:
        try:
            return await super().aresolve(request)
        except respx.models.AllMockedAssertionError:
            raise self._owner.unmocked_request(request) from None


class MockBackends:
    """All mocked backends of one test, by name: ``backends.users.get("/users/1")``.

    >>> with MockBackends([dashboard]) as backends:
    ...     backends.users.get("/users/1").respond(json={"id": 1, "name": "Ada"})
    ...     result = invoke(dashboard, {"user_id": 1})
    """

    def __init__(self, functions: Iterable[Function] = ()) -> None:
        self._router = _Router(self)
        self._mocks: dict[str, MockBackend] = {}
        self.declared: dict[str, list[Backend]] = {}
        self.functions: list[Function] = []
        self.unmocked: list[str] = []
        self._saved_env: dict[str, str | None] = {}
        self._active = False
        self.use(*functions)

    def __getattr__(self, name: str) -> MockBackend:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> MockBackend:
        if name not in self._mocks:
            self._mocks[name] = MockBackend(name, self._base(name), self._router)
        return self._mocks[name]

    def _base(self, name: str) -> str:
        declared = self.declared.get(name, [])
        if declared and not any(b.env for b in declared):
            return str(declared[0].default)  # no variable to redirect: mock its own URL
        return fake_base(name)

    def use(self, *functions: Function) -> MockBackends:
        """Point the backends of these functions (and those they call) at the mocks."""
        fresh = [fn for fn in functions if all(fn is not f for f in self.functions)]
        self.functions.extend(fresh)
        for name, backends in backends_of(fresh).items():
            known = self.declared.setdefault(name, [])
            known.extend(b for b in backends if all(b is not k for k in known))
            self._check_base(name)
        if self._active:
            self._point_env()
        return self

    def _check_base(self, name: str) -> None:
        mock = self._mocks.get(name)
        if mock is not None and mock.base != self._base(name).rstrip("/"):
            raise ValueError(
                f"backend {name!r} declares no env= variable, so its mock must use its own "
                f"URL {self._base(name)}; mock it after the function is known "
                "(import the function in the test module)"
            )

    def _point_env(self) -> None:
        for name, backends in self.declared.items():
            for backend in backends:
                if backend.env:
                    self._setenv(backend.env, fake_base(name))

    def _setenv(self, key: str, value: str) -> None:
        self._saved_env.setdefault(key, os.environ.get(key))
        os.environ[key] = value

    def start(self) -> MockBackends:
        self._router.start()
        self._active = True
        _ACTIVE.append(self)
        self._setenv(CACHE_ENV, "memory://")
        self._point_env()
        return self

    def stop(self) -> None:
        self._active = False
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        self._router.stop(quiet=True)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def __enter__(self) -> MockBackends:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def unmocked_request(self, request: httpx.Request) -> UnmockedRequest:
        """Record a request no route answers; the error names it and shows the fix."""
        name = self._name_of(request.url)
        target = request.url.raw_path.decode()
        where = f"backend {name!r}" if name else "no mocked backend"
        line = f"{request.method} {request.url} ({where})"
        self.unmocked.append(line)
        hint = ""
        if name:
            path = request.url.path
            hint = (
                f"; mock it: backends.{name}.{request.method.lower()}({path!r}).respond(json=...)"
            )
        return UnmockedRequest(f"unmocked request: {request.method} {target} to {where}{hint}")

    def _name_of(self, url: httpx.URL) -> str | None:
        for name, mock in self._mocks.items():
            if str(url).startswith(mock.base):
                return name
        for name in self.declared:
            if str(url).startswith(self._base(name)):
                return name
        return None

    def unused(self) -> list[str]:
        """Mocked backend names that no function under test declares (when any is known)."""
        if not self.declared:
            return []
        return sorted(n for n, m in self._mocks.items() if m.routes and n not in self.declared)

    def __repr__(self) -> str:
        return f"<MockBackends {sorted(self._mocks)}>"


def active() -> MockBackends | None:
    """The innermost started MockBackends, which `invoke` points at the function it runs."""
    return _ACTIVE[-1] if _ACTIVE else None


_ACTIVE: list[MockBackends] = []
