"""The answer's own caching headers: a ``Cache-Control`` computed from its sources, an ``ETag``
of its body, and 304 to a conditional request that already holds it.

The rule, in order (the first that applies wins):

1. ``no-store`` when the answer is an error, is degraded (a fallback stood in), or any
   source's backend said ``no-store``;
2. ``private`` when any source is personal (``personal=True`` or ``identity=``), a header of
   the incoming request was forwarded to a backend (a credential, a cookie), or any
   backend said ``private``; with the smallest ``max-age`` below, if any;
3. ``max-age=N``: the smallest freshness left among the sources whose backends declared
   one (``max-age``/``s-maxage`` minus ``Age``, or ``Expires``); a source served fresh from
   the cache counts with what is left of its copy's freshness;
4. otherwise ``no-cache``: a cache may keep the answer, but must revalidate it (the ETag
   makes that cheap).

``Function(cache_control="public, max-age=30")`` replaces the computed value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from sff.freshness import parse

try:  # the same BLAKE2b as hashlib's (hashlib takes it from here too), without `import
    # hashlib`, which loads OpenSSL's libcrypto bindings (_hashlib) on every cold start
    from _blake2 import blake2b
except ImportError:  # a CPython built without its own BLAKE2
    from hashlib import blake2b

if TYPE_CHECKING:
    from sff.inbound import HttpResponse
    from sff.plan import Plan
    from sff.result import Meta


def personal(plan: Plan, incoming: Mapping[str, str]) -> bool:
    """Whether this invocation's data is someone's: a personal source, or a forwarded header."""
    names = {k.lower() for k in incoming}
    for node in plan.nodes.values():
        opts = node.source.options
        if opts.personal or opts.identity is not None:
            return True
        backend = getattr(node.source, "backend", None)
        if backend is not None:  # a header declared the same for everyone does not count
            own = set(backend.forward_headers) - set(backend.shared_headers)
            if names & own:
                return True
    return False


def cache_control(meta: Meta | None, *, error: bool = False) -> str:
    """The answer's ``Cache-Control`` by the rule above."""
    if meta is None or error:
        return "no-store"
    if meta.cache_control is not None:
        return meta.cache_control
    if meta.degraded:
        return "no-store"
    declared = [parse(s.cache_control) for s in meta.sources.values() if s.cache_control]
    if any(cc.no_store for cc in declared):
        return "no-store"
    private = meta.personal or any(cc.private for cc in declared)
    ages = [s.fresh_s for s in meta.sources.values() if s.fresh_s is not None]
    parts = ["private"] if private else []
    if ages:
        parts.append(f"max-age={int(min(ages))}")
    return ", ".join(parts) if ages else ", ".join([*parts, "no-cache"])


def etag(body: bytes) -> str:
    """A strong validator of the body's exact bytes."""
    return '"' + blake2b(body, digest_size=16).hexdigest() + '"'


def not_modified(if_none_match: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` already names ``tag`` (weak comparison, as for GET)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return tag in wanted


def conditional(
    method: str, incoming: Mapping[str, str] | None, response: HttpResponse
) -> HttpResponse:
    """The answer to a GET or HEAD whose ``If-None-Match`` already holds it: a 304 with its
    validators and caching headers, without the body (RFC 9110 15.4.5). Every front that
    answers with an ``ETag`` (the platform adapters, the ASGI app, `sff serve`) calls this,
    so a CDN or browser revalidates the same way whichever front it talks to."""
    tag = response.headers.get("etag")
    wanted = (incoming or {}).get("if-none-match")
    if method not in ("GET", "HEAD") or tag is None or not 200 <= response.status < 300:
        return response
    if not not_modified(wanted, tag):
        return response
    kept = {
        k: v for k, v in response.headers.items() if k not in ("content-type", "content-length")
    }
    return type(response)(304, kept, b"")
