"""The per-source timing waterfall `sff invoke --meta` draws in a terminal."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from sff.plan import Plan
    from sff.result import Meta, SourceMeta

_EIGHTHS = " ▏▎▍▌▋▊▉█"
_COLORS = {"ok": "32", "degraded": "33", "failed": "31", "skipped": "2", "cancelled": "2"}


def color_for(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    return stream.isatty() and "NO_COLOR" not in os.environ


def render_waterfall(
    meta: Meta,
    plan: Plan | None = None,
    *,
    width: int = 36,
    color: bool = False,
    status: int | None = None,
) -> str:
    """One row per source: a bar from its start to its end offset, scaled to the whole
    invocation, then duration, HTTP status, attempts, outcome and `each` items."""
    total = max([meta.duration_ms, *(s.end_ms or 0 for s in meta.sources.values())]) or 1.0
    names = list(meta.sources) or ["-"]
    pad = max(len(n) for n in [*names, "critical"])
    paint = _painter(color)
    head = (
        f"{meta.function}"
        + (f"  {status}" if status else "")
        + f"  {meta.duration_ms:.1f} ms  request {meta.request_id}"
    )
    axis = f"0 ms{'':<{width - 4 - len(f'{total:.1f} ms')}}{total:.1f} ms"
    lines = [paint(head, "1"), f"  {'source':<{pad}}  {axis}  {'ms':>7}  status  tries  outcome"]
    for src in meta.sources.values():
        lines.append("  " + _row(src, pad, width, total, paint))
    lines += _notes(meta, pad, paint)
    if plan is not None:
        measured = {n: s.duration_ms or 0.0 for n, s in meta.sources.items()}
        path = plan.critical_path(measured) if meta.sources else []
        spent = sum(measured.get(n, 0.0) for n in path)
        lines.append(f"  {'stages':<{pad}}  {stages_text(plan.stages())}")
        lines.append(
            f"  {'critical':<{pad}}  {' → '.join(path) or '-'}"
            + (f"  ({spent:.1f} of {meta.duration_ms:.1f} ms)" if path else "")
        )
    return "\n".join(lines)


def _row(
    src: SourceMeta, pad: int, width: int, total: float, paint: Callable[[str, str], str]
) -> str:
    code = _COLORS.get(src.outcome, "0")
    bar = paint(_bar(src.start_ms, src.end_ms, width, total, src.outcome == "skipped"), code)
    duration = f"{src.duration_ms:7.1f}" if src.duration_ms is not None else f"{'-':>7}"
    status = str(src.status) if src.status is not None else "-"
    why = [src.degraded] if src.degraded else [f"cache {src.cache}"] if src.cache else []
    why += [f"{src.stale_s:.0f}s old"] if src.stale_s is not None else []
    outcome = src.outcome + (f" ({', '.join(why)})" if why else "")
    if src.spans:  # a retried request: what each attempt got
        outcome += "  tries " + " → ".join(str(t.get("status") or "error") for t in src.spans)
    if src.items is not None:
        outcome += f"  {count(src.items, 'item')}"
        outcome += f", {src.failed_items} failed" if src.failed_items else ""
    return (
        f"{src.name:<{pad}}  {bar}  {duration}  {status:>6}  {src.attempts:>5}  "
        f"{paint(outcome, code)}"
    )


def _bar(start: float | None, end: float | None, width: int, total: float, dot: bool) -> str:
    """Eighth-block bar: starts on a cell, ends to an eighth of a cell."""
    if start is None:
        return " " * width
    scale = width / total
    first = min(width - 1, int(start * scale))
    if dot or end is None:
        return " " * first + "·" + " " * (width - first - 1)
    eighths = max(1, round((min(end, total) * scale - first) * 8))
    full, part = divmod(min(eighths, (width - first) * 8), 8)
    cells = "█" * full + (_EIGHTHS[part] if part else "")
    return (" " * first + cells).ljust(width)


def _notes(meta: Meta, pad: int, paint: Callable[[str, str], str]) -> list[str]:
    """Why a source is degraded or failed, under the table."""
    notes = []
    for src in meta.sources.values():
        if not src.error or src.outcome not in ("degraded", "failed"):
            continue
        causes = [f"item {e['index']}: {e['cause']}" for e in src.item_errors or []][:3]
        for cause in causes or [src.error]:
            line = f"  {'!':>{pad}}  {src.name}: {cause.splitlines()[0]}"
            notes.append(paint(line, _COLORS[src.outcome]))
    return notes


def _painter(color: bool) -> Callable[[str, str], str]:
    if not color:
        return lambda text, code: text
    return lambda text, code: f"\x1b[{code}m{text}\x1b[0m"


def count(n: int, noun: str) -> str:
    """``count(1, 'source')`` -> "1 source"; ``count(2, 'source')`` -> "2 sources"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def stages_text(stages: list[list[str]]) -> str:
    return " → ".join(f"[{', '.join(stage)}]" for stage in stages) or "-"
