"""Function routes such as ``/todos/{todo_id}``: where HTTP adapters and `sff serve`
expose a function, with path parameters that join its input. Pure: no I/O."""

from __future__ import annotations

import functools
import re

PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def compile_route(route: str) -> re.Pattern[str]:
    """``/todos/{todo_id}`` -> a pattern whose named groups are the path parameters; a
    parameter matches one segment, and a trailing slash is allowed."""
    parts, last = [], 0
    for param in PARAM.finditer(route):
        parts.append(re.escape(route[last : param.start()]))
        parts.append(f"(?P<{param.group(1)}>[^/]+)")
        last = param.end()
    parts.append(re.escape(route[last:]))
    return re.compile("".join(parts) + "/?")


def route_key(method: str, route: str) -> tuple[str, str]:
    """What makes two routes the same to a router: the method and the template with its
    parameter names blanked and any trailing slash dropped (``/t/{a}`` is ``/t/{b}/``)."""
    return method.upper(), PARAM.sub("{}", route).rstrip("/") or "/"


def clashes(entries: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """``(method, route, who)`` entries -> ``(route, first, second)`` for every entry that
    answers the same method and route as an earlier one."""
    seen: dict[tuple[str, str], str] = {}
    found: list[tuple[str, str, str]] = []
    for method, route, who in entries:
        key = route_key(method, route)
        if key in seen:
            found.append((f"{method.upper()} {route}", seen[key], who))
        else:
            seen[key] = who
    return found


@functools.lru_cache(maxsize=256)
def _compiled(route: str) -> re.Pattern[str]:
    return compile_route(route)


def match_route(route: str, path: str) -> dict[str, str] | None:
    """The path parameters when ``path`` is an address of ``route``, else None (the pattern
    is compiled once per route)."""
    found = _compiled(route).fullmatch(path)
    return None if found is None else found.groupdict()
