"""A short, readable difference between two JSON values: one line per changed path."""

from __future__ import annotations

from typing import Any

MAX_LINES = 12


def json_diff(expected: Any, actual: Any, limit: int = MAX_LINES) -> list[str]:
    """``["open_count: recorded 3, now 2", "open[1]: missing now"]``; empty when equal."""
    lines: list[str] = []
    _walk(expected, actual, "", lines)
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more"]
    return lines


def _walk(old: Any, new: Any, path: str, out: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(f"{where}: missing now (recorded {_short(old[key])})")
            elif key not in old:
                out.append(f"{where}: new ({_short(new[key])})")
            else:
                _walk(old[key], new[key], where, out)
    elif isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            where = f"{path}[{i}]"
            if i >= len(new):
                out.append(f"{where}: missing now (recorded {_short(old[i])})")
            elif i >= len(old):
                out.append(f"{where}: new ({_short(new[i])})")
            else:
                _walk(old[i], new[i], where, out)
    elif old != new or type(old) is not type(new):
        out.append(f"{path or '(root)'}: recorded {_short(old)}, now {_short(new)}")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
