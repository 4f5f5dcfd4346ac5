"""Function routes such as ``/todos/{todo_id}``: where HTTP adapters and `sff serve`
expose a function, with path parameters that join its input. Pure: no I/O."""

from __future__ import annotations

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
