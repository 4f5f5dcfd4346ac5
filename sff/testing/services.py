"""Mocked services by name: `call()` sources that reach an async callable (an SDK).

``services.mailer.returns({"id": "m-1"})`` answers every call of a source named
``mailer`` (or of a callable named ``mailer``) in the functions under test, and
``services.mailer.raises(TimeoutError())`` makes it fail; ``services.mailer.calls`` holds
the keyword arguments each call received. The declaration is untouched: the function's
plan is swapped for the length of the test, as the degradation matrix does.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from typing import Any

from sff.errors import SffError
from sff.function import Function
from sff.spec import CallSource
from sff.testing.discover import functions_used
from sff.testing.patch import patched_sources, with_target

_UNSET: Any = object()


class MockService:
    """One mocked service. ``returns``/``raises`` chain and return the mock."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[dict[str, Any]] = []
        self._value: Any = _UNSET
        self._error: BaseException | type[BaseException] | None = None

    def returns(self, value: Any) -> MockService:
        """Every call answers ``value`` (a pydantic model is dumped as JSON)."""
        self._value, self._error = value, None
        return self

    def raises(self, error: BaseException | type[BaseException]) -> MockService:
        """Every call raises ``error``: the source fails (its fallback applies)."""
        self._error = error
        return self

    async def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self._error is not None:
            raise self._error
        if self._value is _UNSET:
            # An sff error, so its text (the fix) reaches the test: the text of any other
            # exception a service raises is kept for the log only.
            raise SffError(
                f"services.{self.name} was called but told no answer; "
                f"add services.{self.name}.returns(...) or .raises(...)"
            )
        return self._value

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def called(self) -> bool:
        return bool(self.calls)

    def __repr__(self) -> str:
        return f"<MockService {self.name} calls={self.call_count}>"


class MockServices:
    """All mocked services of one test: ``services.<name>`` mocks every `call()` source of
    that name, or whose callable has that name, in the functions under test."""

    def __init__(self, functions: Iterable[Function] = ()) -> None:
        self._mocks: dict[str, MockService] = {}
        self._functions: list[Function] = []
        self._stack = ExitStack()
        self._patched: set[tuple[int, str]] = set()
        self.use(*functions)

    def __getattr__(self, name: str) -> MockService:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> MockService:
        if name not in self._mocks:
            known = self.names()
            if self._functions and name not in known:
                raise AttributeError(
                    f"services.{name}: no call() source or callable named {name!r} in the "
                    f"functions under test (known: {', '.join(sorted(known)) or 'none'})"
                )
            self._mocks[name] = MockService(name)
            self._patch()
        return self._mocks[name]

    def names(self) -> set[str]:
        """Names a service can be mocked by: source names and callables' names."""
        found: set[str] = set()
        for _fn, name, source in self._sources():
            found |= {name, getattr(source.target, "__name__", name)}
        return found

    def use(self, *functions: Function) -> MockServices:
        """Also mock the services of these functions (and of the functions they call)."""
        for fn in functions_used(functions):
            if all(fn is not f for f in self._functions):
                self._functions.append(fn)
        self._patch()
        return self

    def _sources(self) -> list[tuple[Function, str, CallSource]]:
        return [
            (fn, name, node.source)
            for fn in self._functions
            for name, node in fn.plan.nodes.items()
            if isinstance(node.source, CallSource) and not isinstance(node.source.target, Function)
        ]

    def _patch(self) -> None:
        for fn, name, source in self._sources():
            key = (id(fn), name)
            mock = self._mocks.get(name) or self._mocks.get(getattr(source.target, "__name__", ""))
            if mock is None or key in self._patched:
                continue
            self._patched.add(key)
            self._stack.enter_context(patched_sources(fn, {name: with_target(mock)}))

    def close(self) -> None:
        """Give every function its declared services back."""
        self._stack.close()
        self._patched.clear()

    def __enter__(self) -> MockServices:
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        self.close()


def active_services() -> MockServices | None:
    return _ACTIVE[-1] if _ACTIVE else None


_ACTIVE: list[MockServices] = []
