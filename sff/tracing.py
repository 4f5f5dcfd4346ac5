"""The tracing switch: OpenTelemetry when the environment asks for it, nothing at all otherwise.

On when ``SFF_OTEL=1``, or when a standard variable names an exporter
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, or
``OTEL_TRACES_EXPORTER`` other than ``none``); off when ``SFF_OTEL=0`` or
``OTEL_SDK_DISABLED=true``. Off, this module imports nothing beyond ``os`` and every hook is
a constant no-op, so the handler path pays no import and no per-call cost: the
opentelemetry packages (the ``[otel]`` extra) load only when tracing is on. The spans
themselves live in `sff.otel`.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sff.otel.spans import Tracing

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_NULL: AbstractContextManager[Any] = nullcontext()
_state: list[Tracing | None] = []  # decided once per process: [] undecided, [None] off


def wanted(env: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """Whether the environment turns tracing on (see the module docstring)."""
    env = os.environ if env is None else env
    own = env.get("SFF_OTEL", "").strip().lower()
    if own in _FALSE or env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if own in _TRUE:
        return True
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter and exporter != "none":
        return True
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def active() -> Tracing | None:
    """The process's tracing, or None when off (the common, free case)."""
    if _state:
        return _state[0]
    found = None
    if wanted():
        from sff.otel.setup import start

        found = start()  # None (with one warning) when the [otel] extra is missing
    _state.append(found)
    return found


def use(tracing: Tracing | None) -> None:
    """Replace the process's tracing (tests use an in-memory exporter); None turns it off."""
    _state[:] = [tracing]


def reset() -> None:
    """Forget the decision: the environment is read again on the next invocation."""
    _state.clear()


def attempt(source: str, template: str, request: Any, resend: int) -> AbstractContextManager[Any]:
    """A CLIENT span around one attempt (yields a status setter), or a no-op (yields None)."""
    current = active()
    return _NULL if current is None else current.attempt(source, template, request, resend)


def span(name: str, **attrs: Any) -> AbstractContextManager[Any]:
    """An INTERNAL span (e.g. the shape step), or a no-op."""
    current = active()
    return _NULL if current is None else current.internal(name, attrs)


def event(name: str, **attrs: Any) -> None:
    """An event on the current span: a cache hit, a fallback, a breaker decision."""
    current = active()
    if current is not None:
        current.event(name, attrs)
