"""Declarations: backends, sources, fallbacks, retry policies. Plain data, no I/O.

A declaration holds expression *text*; `sff.plan` compiles it once, when the `Function`
using it is declared.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from sff._record import record
from sff.errors import DeclarationError

if TYPE_CHECKING:
    from sff.batch import Batch
    from sff.function import Function
    from sff.paginate import Paginate

Duration: TypeAlias = float | int | str
"""Seconds as a number, or text such as ``"500ms"``, ``"30s"``, ``"5m"``, ``"1h"``, ``"2d"``."""

Template: TypeAlias = Any
"""A JMESPath expression (str), a literal (number, bool, None), or a dict/list of those."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# compiled (and cached by `re`) on the first duration written as text: ~0.3 ms at import
_DURATION = r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$"


def seconds(value: Duration) -> float:
    """``"1h"`` -> 3600.0; a number is already seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise DeclarationError(f"a duration cannot be negative: {value}")
        return float(value)
    match = re.match(_DURATION, str(value))
    if not match:
        raise DeclarationError(f"not a duration: {value!r} (write e.g. 500ms, 30s, 5m, 1h, 2d)")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


@record(frozen=True)
class Retry:
    """How a failed call is tried again. Only idempotent calls (or ones carrying an
    idempotency key) are retried, only on transport errors and the listed statuses."""

    retries: int = 2
    backoff: float = 0.05
    max_backoff: float = 2.0
    statuses: frozenset[int] = frozenset({408, 429, 502, 503, 504})

    @classmethod
    def none(cls) -> Retry:
        return cls(retries=0)


@record(frozen=True)
class Fallback:
    """One step of a source's fallback chain, tried in order when the source fails."""

    kind: Literal["cache", "value", "omit"]
    max_stale: float | None = None
    fresh: float | None = None
    data: Any = None
    max_bytes: int = 1024 * 1024
    backend_fresh: bool = False  # fresh="backend": the backend's Cache-Control decides

    @property
    def consults_first(self) -> bool:
        """Whether the stored copy is looked at before calling (not only on failure)."""
        return self.fresh is not None or self.backend_fresh

    @classmethod
    def cache(
        cls,
        max_stale: Duration = "1h",
        *,
        fresh: Duration | Literal["backend"] | None = None,
        max_bytes: int = 1024 * 1024,
    ) -> Fallback:
        """The last good response, if younger than ``max_stale``. With ``fresh``, a cached
        response younger than that is served without calling the backend at all;
        ``fresh="backend"`` lets the backend's own ``Cache-Control`` (``max-age``,
        ``s-maxage``, ``Age``) say how long, and revalidates a stale copy with its
        ``ETag`` / ``Last-Modified``. Responses over ``max_bytes`` are not kept."""
        if max_bytes < 1:
            raise DeclarationError(f"max_bytes must be at least 1, got {max_bytes}")
        by_backend = fresh == "backend"
        return cls(
            "cache",
            max_stale=seconds(max_stale),
            fresh=None if by_backend else _opt_seconds(fresh),
            max_bytes=max_bytes,
            backend_fresh=by_backend,
        )

    @classmethod
    def value(cls, value: Any) -> Fallback:
        """A static value (e.g. ``[]``) stands in for the source."""
        return cls("value", data=value)

    @classmethod
    def omit(cls) -> Fallback:
        """The source becomes null; the contract decides whether that is allowed."""
        return cls("omit")


def _opt_seconds(value: Duration | None) -> float | None:
    return None if value is None else seconds(value)


Fallbacks: TypeAlias = Fallback | Sequence[Fallback] | None


@record(frozen=True)
class Circuit:
    """A circuit breaker for a backend, its state kept in the cache store so that it spans
    instances: after ``failures`` failed calls within ``window`` it opens and calls fail
    at once (fallbacks apply) for ``cooldown``; then one probe call decides whether it
    closes. A store that is down leaves calls going through."""

    failures: int = 5
    window: float = 30.0
    cooldown: float = 30.0

    def __init__(
        self, failures: int = 5, window: Duration = "30s", cooldown: Duration = "30s"
    ) -> None:
        if failures < 1:
            raise DeclarationError(f"circuit failures must be at least 1, got {failures}")
        object.__setattr__(self, "failures", failures)
        object.__setattr__(self, "window", _positive(seconds(window), "window"))
        object.__setattr__(self, "cooldown", _positive(seconds(cooldown), "cooldown"))


def _positive(value: float, what: str) -> float:
    if value <= 0:
        raise DeclarationError(f"circuit {what} must be positive")
    return value


@record(frozen=True)
class SourceOptions:
    """What every kind of source shares: fan-out, condition, limits, failure handling."""

    each: str | None = None
    when: str | None = None
    timeout: float | None = None
    concurrency: int = 10
    fallback: tuple[Fallback, ...] = ()
    retry: Retry | None = None
    tolerate: float = 0
    """For `each`: failed items allowed (a count >= 1, or a ratio < 1) before the source fails."""
    personal: bool = False
    identity: str | None = None
    """JMESPath over ``{input, headers}`` naming whose data this is; keys the fallback cache."""
    response: Any = None
    """The raw-data contract: a pydantic model (or a type such as ``list[Model]``) of what
    the backend returns. Documentation
    and test data (`sff.testing` generates responses from it); never enforced at run time."""
    item_fallback: tuple[Fallback, ...] = ()
    """For `each`: the chain tried for one failed item before it counts as failed."""
    max_items: int = 1000
    """For `each`: more items than this fail the source at once, before any call."""
    propagate: frozenset[int] = frozenset()
    """4xx statuses of a required HTTP source that become the answer's (`sff.propagate`)."""
    batch: Batch | None = None
    """For `each`: send the items in chunks to a batch endpoint (`sff.batch`)."""
    paginate: Paginate | None = None
    """Follow the pages of a paged list and concatenate their items (`sff.paginate`)."""

    @property
    def required(self) -> bool:
        return not self.fallback


def _options(
    *,
    each: str | None = None,
    when: str | None = None,
    timeout: Duration | None = None,
    concurrency: int = 10,
    fallback: Fallbacks = None,
    retry: Retry | None = None,
    tolerate: float = 0,
    personal: bool = False,
    identity: str | None = None,
    response: Any = None,
    item_fallback: Fallbacks = None,
    max_items: int = 1000,
    propagate: Iterable[int] | int | None = None,
    batch: Batch | None = None,
    paginate: Paginate | None = None,
) -> SourceOptions:
    if concurrency < 1:
        raise DeclarationError(f"concurrency must be at least 1, got {concurrency}")
    if max_items < 1:
        raise DeclarationError(f"max_items must be at least 1, got {max_items}")
    if tolerate < 0:
        raise DeclarationError(f"tolerate must be a count or a ratio >= 0, got {tolerate}")
    chain, item_chain = _chain(fallback), _chain(item_fallback)
    if item_chain and not each:
        raise DeclarationError("item_fallback= needs each=")
    if personal and identity is None and any(f.kind == "cache" for f in chain + item_chain):
        warnings.warn(
            "a personal=True source without identity= is never cached; "
            "name whose data it is with identity=",
            stacklevel=4,
        )
    return SourceOptions(
        each,
        when,
        _opt_seconds(timeout),
        concurrency,
        chain,
        retry,
        tolerate,
        personal,
        identity,
        response,
        item_chain,
        max_items,
        _propagate(propagate),
        batch,
        paginate,
    )


def _propagate(value: Any) -> frozenset[int]:
    if value is None:
        return frozenset()
    from sff.propagate import statuses

    return statuses(value)


def _chain(fallback: Fallbacks) -> tuple[Fallback, ...]:
    if fallback is None:
        return ()
    return (fallback,) if isinstance(fallback, Fallback) else tuple(fallback)


@record(frozen=True)
class HttpSource:
    """One HTTP call (or one per item with `each`) to a backend."""

    backend: Backend
    method: str
    path: str
    query: Mapping[str, Template]
    headers: Mapping[str, Template]
    body: Template
    options: SourceOptions
    idempotency_key: str | None = None

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS or self.idempotency_key is not None


@record(frozen=True)
class CallSource:
    """Another sff Function, or an async Python callable (a service reached through an SDK),
    used as a source. ``args`` are expressions; a Function receives them as its input,
    a callable as keyword arguments."""

    target: Function | Callable[..., Awaitable[Any]]
    args: Mapping[str, Template]
    options: SourceOptions


Source: TypeAlias = HttpSource | CallSource


def call(
    target: Function | Callable[..., Awaitable[Any]],
    args: Mapping[str, Template] | None = None,
    **options: Any,
) -> CallSource:
    """A source that calls another Function in-process, or an async callable."""
    if options.get("propagate"):
        raise DeclarationError(
            "propagate= is for HTTP sources: a call() source has no status of its own"
        )
    return CallSource(target, dict(args or {}), _options(**options))


@record(frozen=True, eq=False)
class Backend:
    """A raw-data API. Scheme, host and port come only from here: templates fill the path,
    query, headers and body, never the origin.

    The base URL is read from ``$env`` each time a function is invoked (so one artifact
    runs against any environment), falling back to ``default``.

    Identity: every header sent to the backend (forwarded, templated or static) keys the
    fallback cache copy, except those listed in ``shared_headers`` (forwarded headers
    declared not to identify the caller, such as ``accept-language``).

    Secrets: ``secret_headers`` and ``secret_query`` name headers (static, templated or
    forwarded) and query parameters whose values are never shown or logged, on top of the
    names secret without being told (`sff.secrets.is_secret`).
    """

    name: str
    env: str | None = None
    default: str | None = None
    timeout: Duration = 5.0
    headers: Mapping[str, str] = field(default_factory=dict)
    forward_headers: tuple[str, ...] = ()
    vary_headers: tuple[str, ...] = ()
    retry: Retry = field(default_factory=Retry)
    max_response_bytes: int = 10 * 1024 * 1024
    follow_redirects: bool = False
    redirect_hosts: tuple[str, ...] = ()  # other hosts a redirect may go to (no credentials)
    max_connections: int = 100
    circuit: Circuit | None = None
    shared_headers: tuple[str, ...] = ()
    secret_headers: tuple[str, ...] = ()
    secret_query: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.env and not self.default:
            raise DeclarationError(f"backend {self.name!r} needs env= or default= for its URL")
        for name in ("forward_headers", "vary_headers", "shared_headers", "secret_headers"):
            object.__setattr__(self, name, _names(self.name, name, getattr(self, name)))
        object.__setattr__(
            self, "secret_query", _names(self.name, "secret_query", self.secret_query, lower=False)
        )
        object.__setattr__(self, "timeout", seconds(self.timeout))
        hosts = tuple(h.lower() for h in self.redirect_hosts)
        object.__setattr__(self, "redirect_hosts", hosts)
        _check_fields(f"backend {self.name!r}", self.headers.items())
        names = (*self.forward_headers, *self.vary_headers)
        _check_fields(f"backend {self.name!r}", ((n, "") for n in names))
        _check_shared(self)
        from sff import secrets

        secrets.declare_static(
            v for k, v in self.headers.items() if secrets.is_secret(k, self.secret_headers)
        )

    def is_secret_header(self, name: str) -> bool:
        from sff.secrets import is_secret

        return is_secret(name, self.secret_headers)

    @property
    def timeout_s(self) -> float:
        """The per-attempt timeout in seconds (``timeout`` may be declared as ``"2s"``;
        `__post_init__` made it seconds already, read per request)."""
        timeout = self.timeout
        return timeout if type(timeout) is float else seconds(timeout)

    def base_url(self, environ: Mapping[str, str] = os.environ) -> str | None:
        return (environ.get(self.env) if self.env else None) or self.default

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Template] | None = None,
        headers: Mapping[str, Template] | None = None,
        body: Template = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> HttpSource:
        if not path.startswith("/"):
            raise DeclarationError(f"backend {self.name!r}: path must start with '/': {path!r}")
        _check_fields(f"backend {self.name!r}", ((n, "") for n in headers or {}))
        return HttpSource(
            self,
            method.upper(),
            path,
            dict(query or {}),
            dict(headers or {}),
            body,
            _options(**options),
            idempotency_key,
        )

    def get(self, path: str, **kw: Any) -> HttpSource:
        return self.request("GET", path, **kw)

    def head(self, path: str, **kw: Any) -> HttpSource:
        return self.request("HEAD", path, **kw)

    def post(self, path: str, **kw: Any) -> HttpSource:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> HttpSource:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> HttpSource:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> HttpSource:
        return self.request("DELETE", path, **kw)


def _check_fields(where: str, pairs: Iterable[tuple[str, Any]]) -> None:
    """A header sff would send must be one that can be sent: a bad one is refused here,
    when declared, rather than on the wire (`sff.http.fields`, pure like this module)."""
    from sff.http.fields import FieldError, check

    for name, value in pairs:
        if not isinstance(value, str):
            raise DeclarationError(f"{where}: header {name!r} must be a string")
        try:
            check(name, value)
        except FieldError as exc:
            raise DeclarationError(f"{where}: {exc}") from None


def _names(backend: str, what: str, names: Any, *, lower: bool = True) -> tuple[str, ...]:
    if isinstance(names, str):  # ("accept-language") without the comma: a classic slip
        raise DeclarationError(
            f"backend {backend!r}: {what}= must be a tuple of names, got the string {names!r}"
        )
    return tuple(n.lower() if lower else n for n in names)


def _check_shared(backend: Backend) -> None:
    """A shared header must be forwarded, and cannot be a credential: those identify."""
    from sff.secrets import is_secret

    for name in backend.shared_headers:
        if name not in backend.forward_headers:
            raise DeclarationError(
                f"backend {backend.name!r}: shared_headers names {name!r}, "
                "which forward_headers does not forward"
            )
        if is_secret(name, backend.secret_headers):
            raise DeclarationError(
                f"backend {backend.name!r}: {name!r} is a secret header, so it identifies "
                "the caller and cannot be in shared_headers"
            )
