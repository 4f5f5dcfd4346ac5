"""Following a `paginate=` source's pages (`sff.paginate` declares them).

Each page is one call of the source (`HttpFetcher.fetch_page`): its retries, timeout,
size cap and strict parsing, with the page's query (or the next link) in place of the
declared one. The pages' items are concatenated in order. The first page failing is the
source failing (its fallback applies); after it, a page failing, `max_pages`, the
deadline, a cursor seen twice or a next link leaving the backend's base URL stop the
loop with the items fetched so far, degraded for reason ``pages`` - or, when the source
declared ``complete=True``, fail it. A complete list is what the source's cache step
keeps (under the declared request's key), so a fallback copy is a whole list too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sff import tracing
from sff.errors import InputError, SffError, SourceError
from sff.expr import join_key
from sff.http._httpx import httpx
from sff.http.render import Parts

if TYPE_CHECKING:
    from sff.expr import Expr
    from sff.paginate import Paginate
    from sff.plan import Node
    from sff.result import SourceMeta
    from sff.run import Invocation

REASON = "pages"
RESERVE_S = 0.05  # later pages end this early, so the items so far beat the deadline


class Stop(Exception):
    """Pagination cannot go on: why, for the degradation (or the failure)."""


async def follow(run: Invocation, node: Node, src: SourceMeta, timeout: float | None) -> Any:
    declared = node.source.options.paginate
    assert declared is not None
    pager = Pager(declared, *declared.exprs(run.fn.name, node.name))
    parts = pager.first(run.fetcher.parts(node, run.context))
    later = replace(run.deadline, at=run.deadline.at - RESERVE_S)
    collected: list[Any] = []
    fetched, stop = 0, None
    while True:
        try:
            if fetched and later.remaining() <= 0:
                raise Stop("the deadline came before the last page")
            body, headers = await run.fetcher.fetch_page(
                node, parts, src, later if fetched else run.deadline, timeout
            )
            page = pager.items(node.name, body)
        except InputError:
            raise
        except (SffError, Stop) as exc:
            if not fetched:
                raise
            stop = f"page {fetched + 1}: {exc.message}" if isinstance(exc, SffError) else str(exc)
            break
        fetched += 1
        collected.extend(page)
        try:
            following = pager.next(parts, body, headers, page)
        except Stop as exc:
            stop = str(exc)
            break
        if following is None:
            break
        if fetched >= declared.max_pages:
            stop = f"max_pages ({declared.max_pages}) reached before the last page"
            break
        parts = following
    src.pages = fetched
    if stop is None:
        run.remember_value(node, run.context, collected)  # the whole list, under its request
        return collected
    if declared.complete:
        raise SourceError(node.name, f"pages: {stop} (the source must be complete)")
    src.outcome, src.degraded, src.error = "degraded", REASON, f"pages: {stop}"
    tracing.event(
        "sff.fallback",
        **{"sff.source": node.name, "sff.outcome": "degraded"},
        **{"sff.reason": REASON},
    )
    return collected


class Pager:
    """The next page's request parts, by style."""

    def __init__(self, declared: Paginate, items: Expr | None, cursor: Expr | None) -> None:
        self.declared, self.items_expr, self.cursor_expr = declared, items, cursor
        self.number = declared.start  # the page number, or the offset
        self.seen: set[str] = set()  # cursors and links already followed

    def first(self, parts: Parts) -> Parts:
        d = self.declared
        if d.style in ("pages", "offset"):
            parts = with_param(parts, d.param, str(self.number))
        if d.size_param is not None and d.size is not None:
            parts = with_param(parts, d.size_param, str(d.size))
        if d.style == "link":
            self.seen.add(str(url_of(parts)))
        return parts

    def items(self, name: str, body: Any) -> list[Any]:
        found = body if self.items_expr is None else self.items_expr.search(body)
        if found is None:
            return []
        if not isinstance(found, list):
            where = f"`{self.items_expr.text}`" if self.items_expr else "the body"
            raise SourceError(name, f"a page's items ({where}) is not an array")
        return found

    def next(
        self, parts: Parts, body: Any, headers: dict[str, str], page: list[Any]
    ) -> Parts | None:
        d = self.declared
        if not page:
            return None
        if d.style in ("pages", "offset"):
            assert d.size is not None and d.param is not None
            if len(page) < d.size:
                return None
            self.number += 1 if d.style == "pages" else d.size
            return with_param(parts, d.param, str(self.number))
        if d.style == "cursor":
            return self._cursor(parts, body)
        return self._link(parts, headers.get("link"))

    def _cursor(self, parts: Parts, body: Any) -> Parts | None:
        assert self.cursor_expr is not None and self.declared.param is not None
        value = self.cursor_expr.search(body)
        if value is None or value == "":
            return None
        text = join_key(value)
        if text is None:
            raise Stop(f"the cursor `{self.cursor_expr.text}` is not a string or number")
        if text in self.seen:
            raise Stop(f"the cursor `{self.cursor_expr.text}` gave a cursor it gave before")
        self.seen.add(text)
        return with_param(parts, self.declared.param, text)

    def _link(self, parts: Parts, link: str | None) -> Parts | None:
        if not link:
            return None
        # RFC 8288 parsing is httpx's (`Response.links`), not ours
        target = httpx.Response(200, headers=[("link", link)]).links.get("next", {}).get("url")
        if not target:
            return None
        method, base, _, _, headers, content = parts
        try:
            url = url_of(parts).join(target)
        except httpx.InvalidURL:
            raise Stop("the next link is not a URL") from None
        path = _under(httpx.URL(base), url)
        if path is None:
            raise Stop("the next link leaves the backend's base URL; not followed")
        if str(url) in self.seen:
            raise Stop("the next link points at a page already fetched")
        self.seen.add(str(url))
        return method, base, path, list(url.params.multi_items()), headers, content


def _under(base: httpx.URL, url: httpx.URL) -> str | None:
    """``url``'s path below the backend's base URL (same origin, under its path), or None."""
    if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
        return None
    root = base.raw_path.decode("ascii").rstrip("/")
    path = url.copy_with(query=None, fragment=None).raw_path.decode("ascii")
    if path != root and not path.startswith(root + "/"):
        return None
    return path[len(root) :] or "/"


def url_of(parts: Parts) -> httpx.URL:
    _, base, path, query, _, _ = parts
    return httpx.URL(base + path, params=query)


def with_param(parts: Parts, name: str | None, value: str) -> Parts:
    """The parts with query parameter ``name`` set to ``value`` (replacing the declared one)."""
    assert name is not None
    method, base, path, query, headers, content = parts
    kept = [(k, v) for k, v in query if k != name]
    return method, base, path, [*kept, (name, value)], headers, content
