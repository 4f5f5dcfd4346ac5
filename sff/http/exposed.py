"""A source's response as expressions see it: ``meta.<source>.status`` and ``.headers``.

The raw headers of every answer are only referenced (no copy) as it lands; the mapping
expressions read, by lower-case name, is built only for the sources whose response an
expression reads (``Plan.exposed``, from the expressions' ASTs), when the source settles.
A function that reads no source's headers pays one attribute store per answer.

Never exposed: headers a backend declares secret (``secret_headers=``), names that are
secret by themselves (`sff.secrets.is_secret`: ``authorization``, ``*-token``, ``*key*``
...), and credential-bearing answer headers (``set-cookie``, ``www-authenticate`` ...).
Values pass through `sff.secrets.redact_values`, so a backend echoing a credential the
invocation sent does not hand it to the shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sff import secrets

if TYPE_CHECKING:
    from sff.result import SourceMeta
    from sff.spec import Backend

CREDENTIAL_HEADERS = frozenset(
    {
        "set-cookie",
        "set-cookie2",
        "cookie",
        "authorization",
        "proxy-authorization",
        "www-authenticate",
        "proxy-authenticate",
        "authentication-info",
        "proxy-authentication-info",
    }
)


class Seen:
    """The status and raw headers of the answer one `each` item got."""

    __slots__ = ("headers", "status")

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: Any = None


def pairs(raw: Any) -> list[tuple[str, str]]:
    """(name, value) of raw headers: httpx's ``Headers``, or the lean send's fields by
    lower-case name, already joined (`sff.http.lean.joined`)."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        return list(raw.items())
    return [(k.lower(), v) for k, v in raw.multi_items()]


def header_map(raw: Any, backend: Backend | None) -> dict[str, str]:
    """The answer's headers by lower-case name, repeated ones joined with ", " (as
    HTTP allows), without any secret or credential-bearing one."""
    declared = backend.secret_headers if backend is not None else ()
    found: dict[str, str] = {}
    for name, value in pairs(raw):
        if name in CREDENTIAL_HEADERS or secrets.is_secret(name, declared):
            continue
        found[name] = f"{found[name]}, {value}" if name in found else value
    return {name: secrets.redact_values(value) for name, value in found.items()}


def view(src: SourceMeta, backend: Backend | None, each: bool) -> dict[str, Any]:
    """What ``meta.<source>`` adds for a source whose response is read: its headers, or
    for an `each` source every item's status and headers, in item order."""
    if not each:
        return {"headers": header_map(src.response_headers, backend)}
    items = [
        {"status": seen.status, "headers": header_map(seen.headers, backend)}
        for seen in src.item_responses or ()
    ]
    return {"items": items}
