"""Which values are secret, and how text is scrubbed of them before anyone sees it.

One rule, used everywhere sff shows or writes text (error bodies, ``meta``, ``sff invoke``,
the waterfall, ``sff serve`` reports and page, recorded cases, log records):

- A header or query parameter is secret when a backend declares it so (``secret_headers=``,
  ``secret_query=``) or when its name is one of `SECRET_NAMES` or contains one of
  `SECRET_WORDS` (``x-api-key``, ``access_token``, ``session_id``...).
- The values of secret headers and parameters that an invocation receives or sends are
  noted in the invocation's `Scope` (a context variable, so every task of the invocation
  and every log record it emits sees them) and replaced by ``[redacted]`` in any text.
- Patterns catch what no scope knew: ``name=value`` pairs with a secret name, credentials
  in URLs (``scheme://user:password@``), ``Bearer``/``Basic`` tokens.

`guard_loggers` puts the same scrubbing on the ``httpx``/``httpcore`` loggers (which log
request URLs and response headers) and on sff's own.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sff.spec import Backend

REDACTED = "[redacted]"
SECRET_NAMES = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})
SECRET_WORDS = (
    "token", "secret", "key", "password", "passwd", "session", "credential", "auth",
    "signature", "jwt",
)  # fmt: skip
MIN_VALUE_CHARS = 4  # shorter values ("1", "en") would shred unrelated text
_WORDS = "|".join(SECRET_WORDS) + "|authorization|cookie"

# scheme://user:password@host -> scheme://user:[redacted]@host
_URL_PASSWORD = re.compile(
    r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)(?!\*+@|\[redacted\]@)([^\s@/]+)(@)"
)  # a password already masked (``***``) stays as it is


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """What only `redact` uses, compiled on its first call: an invocation that shows no
    error and logs nothing never pays for these (the last is the largest regex in sff)."""
    scheme_token = re.compile(r"(?i)\b(bearer|basic|digest)(\s+)([A-Za-z0-9._~+/=-]{4,})")
    # httpcore logs headers as (b'name', b'value') tuples
    bytes_pair = re.compile(
        rf"(?i)(\(b?['\"][\w.-]*(?:{_WORDS})[\w.-]*['\"],\s*b?['\"])([^'\"]*)(['\"]\))"
    )
    # name=value, name: value, "name": "value" with a secret name
    pair = re.compile(
        rf"(?i)((?<![\w-])[\w.-]*(?:{_WORDS})[\w.-]*[\"']?\s*[:=]\s*[\"']?)"
        rf"(?!\[redacted\])([^\s\"'&,;)\]}}]+)"
    )
    return scheme_token, bytes_pair, pair


_STATIC: set[str] = set()  # secret values fixed at declaration (a backend's static headers)
_current: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("sff_secrets", default=None)


@lru_cache(maxsize=4096)
def is_secret(name: str, declared: tuple[str, ...] = ()) -> bool:
    """Whether a header or query parameter called ``name`` carries a secret."""
    low = name.lower()
    if low in SECRET_NAMES or low in {d.lower() for d in declared}:
        return True
    return any(word in low for word in SECRET_WORDS)


def note_request(
    backend: Backend, base: str, query: Iterable[tuple[str, str]], headers: Mapping[str, str]
) -> None:
    """Note the secret values of a request about to be sent to ``backend``."""
    here = _current.get()
    if here is None:
        return
    here.note_pairs(query, backend.secret_query)
    here.note_pairs(headers.items(), backend.secret_headers)
    password = _URL_PASSWORD.search(base)
    if password:
        here.note(password.group(2))


def note_query(backend: Backend, query: Iterable[tuple[str, str]]) -> None:
    """`note_request` for a request whose base URL and headers were noted already."""
    here = _current.get()
    if here is not None:
        here.note_pairs(query, backend.secret_query)


def declare_static(values: Iterable[str]) -> None:
    """Values that are secret in every invocation (a backend's static secret headers)."""
    for value in values:
        _STATIC.update(v for v in (value, *_parts(value)) if len(v) >= MIN_VALUE_CHARS)


class Scope:
    """The secret values one invocation has seen; a nested invocation sees its parent's."""

    def __init__(self, parent: Scope | None = None) -> None:
        self.parent = parent
        self.values: set[str] = set()

    def note(self, *values: str) -> None:
        for value in values:
            if len(value) >= MIN_VALUE_CHARS:
                self.values.add(value)
                if self.parent is not None:  # the caller's logs may show it too
                    self.parent.note(value)
                self.note(*_parts(value))

    def note_pairs(self, pairs: Iterable[tuple[str, str]], declared: tuple[str, ...] = ()) -> None:
        """Note the values of the secret ones among (name, value) pairs."""
        self.note(*(value for name, value in pairs if is_secret(name, declared)))

    def all(self) -> set[str]:
        own = self.values | (self.parent.all() if self.parent else set())
        return own


_SCHEMES = frozenset({"bearer", "basic", "digest", "negotiate", "token"})


def _parts(value: str) -> list[str]:
    """The pieces of a credential that may be echoed alone: the token of ``Bearer abc``,
    the values of ``sid=abc; theme=x``."""
    if " " not in value and "=" not in value:
        return []
    pieces = [_value_of(p.strip()) for chunk in value.split(";") for p in chunk.split(" ")]
    return [p for p in pieces if p and p != value and p.lower() not in _SCHEMES]


def _value_of(piece: str) -> str:
    """``sid=abc`` -> ``abc``; base64 padding (``abc==``) is not a separator."""
    _, eq, value = piece.partition("=")
    return value if eq and value.strip("=") else piece


def current() -> Scope | None:
    return _current.get()


@contextmanager
def scope(headers: Mapping[str, str] | None = None) -> Iterator[Scope]:
    """A scope for one invocation, seeded with the incoming secret headers."""
    guard_loggers()
    here = Scope(_current.get())
    if headers:
        here.note_pairs(headers.items())
    token = _current.set(here)
    try:
        yield here
    finally:
        _current.reset(token)


def note(*values: str) -> None:
    """Note secret values in the current invocation's scope (none: nothing to do)."""
    here = _current.get()
    if here is not None:
        here.note(*values)


def known() -> set[str]:
    here = _current.get()
    return _STATIC | (here.all() if here is not None else set())


def redact(text: str, extra: Iterable[str] = (), *, keep: Iterable[str] = ()) -> str:
    """``text`` without any secret value known here, nor anything that looks like one.
    ``keep``: spans of declared text (an expression) that only known values are taken
    from, so a shape such as ``{token: user.token}`` is still shown as written."""
    if not text:
        return text
    text = redact_values(text, extra)
    kept = [redact_values(k, extra) for k in keep if k]
    for i, span in enumerate(kept):
        text = text.replace(span, f"\x00{i}\x00")
    scheme_token, bytes_pair, pair = _patterns()
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}\3", text)
    text = scheme_token.sub(rf"\1\2{REDACTED}", text)
    text = bytes_pair.sub(rf"\1{REDACTED}\3", text)
    text = pair.sub(rf"\1{REDACTED}", text)
    for i, span in enumerate(kept):
        text = text.replace(f"\x00{i}\x00", span)
    return text


def redact_values(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every secret value known here (and ``extra``) replaced."""
    # longest first, so a token inside a longer known value does not leave a tail
    for value in sorted(
        {*known(), *(v for v in extra if len(v) >= MIN_VALUE_CHARS)}, key=len, reverse=True
    ):
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def redact_data(value: Any, extra: Iterable[str] = ()) -> Any:
    """A JSON-like value with every string redacted (keys too), for meta and case files."""
    if isinstance(value, str):
        return redact(value, extra)
    if isinstance(value, list | tuple):
        return [redact_data(v, extra) for v in value]
    if isinstance(value, dict):
        return {redact(str(k), extra): redact_data(v, extra) for k, v in value.items()}
    return value


def redact_headers(headers: Mapping[str, str], declared: tuple[str, ...] = ()) -> dict[str, str]:
    """Headers with the values of secret ones replaced (the names stay: they explain)."""
    return {k: REDACTED if is_secret(k, declared) else redact(v) for k, v in headers.items()}


def redact_query(
    pairs: Iterable[tuple[str, str]], declared: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    return [(k, REDACTED if is_secret(k, declared) else redact(v)) for k, v in pairs]


class RedactingFilter(logging.Filter):
    """Scrubs a record's message, arguments and exception text before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the record as logging would
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


FILTER = RedactingFilter()
# A logger's filters see only records logged on that very logger, not its children's,
# so every logger that may carry a URL, a header or an exception is named here.
GUARDED = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "hpack.hpack",  # HTTP/2 header coding, at DEBUG: values included
    "hpack.table",
    "uvicorn.access",
    "uvicorn.error",
    "sff",
)
_guarded: list[bool] = []


def guard(logger: logging.Logger) -> logging.Logger:
    if FILTER not in logger.filters:
        logger.addFilter(FILTER)
    return logger


def logger(name: str) -> logging.Logger:
    """An sff logger whose records are redacted."""
    guard_loggers()
    return guard(logging.getLogger(name))


def guard_loggers() -> None:
    """Put the redacting filter on the HTTP libraries' loggers (once per process)."""
    if _guarded:
        return
    _guarded.append(True)
    for name in GUARDED:
        guard(logging.getLogger(name))
