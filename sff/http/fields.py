"""Header fields that may be sent, and the request head that carries them.

RFC 9110 5.1/5.5: a field name is a token; a field value is visible ASCII, SP and HTAB,
with no leading or trailing whitespace the recipient would strip. Anything else - CR, LF
or NUL above all, which would end the line early and let the rest be read as another
header or a whole second request - is refused before a byte is written, on every path
(the lean send, the httpx path, the testing kit's mocks): `check` is the one gate.

httptools (llhttp) parses responses but does not write requests, so the head is written
here, from fields that passed `check` and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# visible ASCII, SP, HTAB; no whitespace at either end (a recipient would strip it)
_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?")
_TARGET = re.compile(r"/[\x21-\x7e]*")
_TOKEN_B = re.compile(_TOKEN.pattern.encode())
_VALUE_B = re.compile(_VALUE.pattern.encode())


class FieldError(ValueError):
    """A header name or value that cannot be sent safely; says which one and why."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"header {name[:64]!r} {reason}")
        self.header = name


def check(name: str, value: str) -> None:
    """Raises `FieldError` unless ``name: value`` is one well-formed RFC 9110 field line."""
    if not _TOKEN.fullmatch(name):
        raise FieldError(name, "is not a valid header name (RFC 9110 token)")
    if not _VALUE.fullmatch(value):
        raise FieldError(name, f"has a value that cannot be sent: {_why(value)}")


def check_all(fields: Iterable[tuple[str, str]]) -> None:
    for name, value in fields:
        check(name, value)


def _why(value: str) -> str:
    if "\r" in value or "\n" in value:
        return "it contains CR or LF"
    if "\x00" in value:
        return "it contains NUL"
    if not value.isascii():
        return "it is not ASCII text"
    if value != value.strip(" \t"):
        return "it has leading or trailing whitespace"
    return "it contains a control character"


def request_line(method: str, target: str) -> bytes:
    """``METHOD target HTTP/1.1``, for a token method and a target of visible ASCII."""
    if not (_TOKEN.fullmatch(method) and _TARGET.fullmatch(target)):
        raise ValueError(f"cannot send {method[:16]!r} {target[:64]!r}")
    return f"{method} {target} HTTP/1.1".encode("ascii")


def head(
    method: str,
    target: str,
    fields: Iterable[tuple[bytes, bytes]],
    checked: Iterable[tuple[bytes, bytes]] = (),
) -> bytes:
    """The request line and header block, CRLF-terminated: ``checked`` fields first (ones
    this process made and checked once, e.g. a client's defaults), then ``fields``, each
    checked again here, so no path (httpx's included, whose Headers accept CR and LF)
    writes an unsafe one."""
    lines = [request_line(method, target)]
    lines += [name + b": " + value for name, value in checked]
    for name, value in fields:
        if not (_TOKEN_B.fullmatch(name) and _VALUE_B.fullmatch(value)):
            check(name.decode("latin-1"), value.decode("latin-1"))  # raises, saying why
        lines.append(name + b": " + value)
    lines.append(b"\r\n")
    return b"\r\n".join(lines)
