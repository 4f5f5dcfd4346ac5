"""`paginate=Paginate...`: a source follows the pages of a paged list and concatenates them.

Four styles, declared once, checked at declaration (the expressions with a caret, like
every other expression); the follow loop is `sff.pages`, loaded only when one runs:

- ``Paginate.pages(page="page", per_page="per_page", size=50, start=1)``: page numbers,
  stops on a short or empty page;
- ``Paginate.offset(offset="offset", limit="limit", size=50)``: offset/limit, likewise;
- ``Paginate.cursor("next_cursor", param="cursor")``: the next cursor is a JMESPath
  expression over each page's body, sent as ``param``; stops when it is null or "";
- ``Paginate.link()``: the ``Link: <...>; rel="next"`` header (RFC 8288), followed only
  under the backend's own base URL.

``items`` (JMESPath over a page's body) says where a page's items are; without it the
body is the array. Every style is bounded by ``max_pages`` and the invocation's deadline:
reaching either before the last page (or a later page failing) leaves the items fetched
so far, with the source degraded for reason ``pages`` - unless ``complete=True``, when it
is the source's failure (its fallback applies, or the answer is a 502).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sff.errors import DeclarationError, PlanError

if TYPE_CHECKING:
    from sff.expr import Expr
    from sff.spec import Source

Style = Literal["pages", "offset", "cursor", "link"]


@dataclass(frozen=True)
class Paginate:
    style: Style
    param: str | None = None  # page number, offset or cursor query parameter
    size_param: str | None = None  # per_page / limit
    size: int | None = None  # items asked per page
    start: int = 1  # the first page number (or offset)
    next: str | None = None  # cursor: the next cursor in a page's body
    items: str | None = None  # where a page's items are in its body (default: the body)
    max_pages: int = 10
    complete: bool = False  # reaching a bound is a failure, not a degraded answer
    _compiled: dict[str, tuple[Expr | None, Expr | None]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if type(self.max_pages) is not int or self.max_pages < 1:
            raise DeclarationError(f"max_pages must be an integer >= 1, got {self.max_pages!r}")
        if self.size is not None and (type(self.size) is not int or self.size < 1):
            raise DeclarationError(f"page size must be an integer >= 1, got {self.size!r}")
        for what in ("param", "size_param"):
            value = getattr(self, what)
            if value is not None and (not isinstance(value, str) or not value):
                raise DeclarationError(f"Paginate {what} must be a query parameter name")

    @classmethod
    def pages(
        cls,
        *,
        page: str = "page",
        per_page: str = "per_page",
        size: int = 50,
        start: int = 1,
        items: str | None = None,
        max_pages: int = 10,
        complete: bool = False,
    ) -> Paginate:
        """``?page=1&per_page=50``, then 2, 3, ... until a page has fewer than ``size``."""
        return cls("pages", page, per_page, size, start, None, items, max_pages, complete)

    @classmethod
    def offset(
        cls,
        *,
        offset: str = "offset",
        limit: str = "limit",
        size: int = 50,
        start: int = 0,
        items: str | None = None,
        max_pages: int = 10,
        complete: bool = False,
    ) -> Paginate:
        """``?offset=0&limit=50``, then 50, 100, ... until a page has fewer than ``size``."""
        return cls("offset", offset, limit, size, start, None, items, max_pages, complete)

    @classmethod
    def cursor(
        cls,
        next: str,
        *,
        param: str = "cursor",
        items: str | None = None,
        size: int | None = None,
        size_param: str | None = None,
        max_pages: int = 10,
        complete: bool = False,
    ) -> Paginate:
        """The first page as declared; then ``?cursor=<next>`` while ``next`` (JMESPath
        over the page's body) gives a cursor."""
        if (size is None) != (size_param is None):
            raise DeclarationError("Paginate.cursor: give size= and size_param= together")
        return cls("cursor", param, size_param, size, 1, next, items, max_pages, complete)

    @classmethod
    def link(
        cls, *, items: str | None = None, max_pages: int = 10, complete: bool = False
    ) -> Paginate:
        """The first page as declared; then the ``rel="next"`` link of each answer's
        ``Link`` header, while it stays under the backend's base URL."""
        return cls("link", items=items, max_pages=max_pages, complete=complete)

    def exprs(self, function: str, source: str) -> tuple[Expr | None, Expr | None]:
        """The compiled ``items`` and ``next`` expressions of one declared source."""
        return self._compiled[f"{function}.{source}"]

    def describe(self) -> str:
        """One line for `sff list`."""
        if self.style == "pages":
            how = f"pages ?{self.param}={self.start}.. &{self.size_param}={self.size}"
        elif self.style == "offset":
            how = f"offset ?{self.param}={self.start}.. &{self.size_param}={self.size}"
        elif self.style == "cursor":
            how = f"cursor ?{self.param}= from {self.next}"
        else:
            how = 'link rel="next"'
        items = f" · items {self.items}" if self.items else ""
        bound = f" · max_pages {self.max_pages}" + (" · complete" if self.complete else "")
        return how + items + bound


def check(function: str, name: str, source: Source, is_http: bool) -> None:
    """At declaration: paginate= needs a plain HTTP source; its expressions compile."""
    from sff.expr import Where, compile_expr

    declared = source.options.paginate
    if declared is None:
        return
    where = f"function {function!r}, source {name!r}"
    if not isinstance(declared, Paginate):
        raise PlanError(f"{where}: paginate= takes Paginate.pages/offset/cursor/link(...)")
    if not is_http:
        raise PlanError(f"{where}: paginate= needs an HTTP source")
    if source.options.each is not None:
        raise PlanError(f"{where}: paginate= and each= cannot be combined on one source")
    if any(step.consults_first for step in source.options.fallback):
        raise PlanError(
            f"{where}: a paginated source's cache keeps the whole list as a fallback; "
            "Fallback.cache(fresh=...) is not supported with paginate="
        )

    def compiled(text: str | None, what: str) -> Expr | None:
        return (
            None if text is None else compile_expr(text, Where(function, f"source {name!r} {what}"))
        )

    declared._compiled[f"{function}.{name}"] = (
        compiled(declared.items, "paginate items"),
        compiled(declared.next, "paginate next"),
    )
