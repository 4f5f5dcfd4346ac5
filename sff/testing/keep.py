"""What `sff record` may keep: only a run worth replaying as the truth.

A recording becomes the expected answer of a test, so a failed or degraded run (which
would make a 502 or a fallback "correct"), a run without the input the function requires,
and a silent overwrite of a good case are refused with the reason and what to do.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sff.function import Function
from sff.result import Meta
from sff.testing.casefile import Case


class RecordRefused(Exception):
    """The run is not recorded; the message says why and which flag would allow it."""


def require_input(fn: Function, given: bool) -> None:
    """A function with required input fields is not recorded on a default input."""
    if given or fn.input is None:
        return
    needed = [n for n, f in fn.input.model_fields.items() if f.is_required()]
    if needed:
        raise RecordRefused(
            f"function {fn.name!r} requires input ({', '.join(needed)}): "
            f"pass it with --input '{json.dumps({n: '...' for n in needed})}'"
        )


def judge_run(case: Case, meta: Meta | None, *, allow_degraded: bool) -> None:
    """A failed run is never worth replaying; a degraded one only when asked for."""
    if allow_degraded:
        return
    if case.error is not None:
        raise RecordRefused(
            f"the run failed ({case.error['status']} {case.error['code']}): "
            f"{case.error['message']}\n"
            "fix it (is every backend's URL variable set? see `sff check --env`), "
            "or keep the failure on purpose with --allow-degraded"
        )
    degraded = meta.degraded if meta is not None else []
    if degraded:
        why = ", ".join(f"{n} ({meta.sources[n].degraded})" for n in degraded)  # type: ignore[union-attr]
        raise RecordRefused(
            f"the run was degraded: {why}; fallback data would become the expected "
            "answer. Record when the backends answer, or pass --allow-degraded"
        )


def judge_overwrite(case: Case, path: Path, *, force: bool) -> None:
    """An existing case is replaced only with --force; the refusal shows what changes."""
    if not path.exists() or force:
        return
    old = path.read_text(encoding="utf-8").splitlines()
    new = json.dumps(case.to_dict(), indent=2, ensure_ascii=False).splitlines()
    diff = list(difflib.unified_diff(old, new, f"{path} (kept)", "new run", lineterm="", n=2))
    shown = "\n".join(diff[:60]) + ("\n..." if len(diff) > 60 else "")
    change = f"\n{shown}" if diff else " (the new run is identical)"
    raise RecordRefused(f"{path} exists; replace it with --force{change}")


def summary(case: Case, path: Path, sources: Mapping[str, Any] | None) -> str:
    """What was recorded: every source's outcome and status, the exchanges, the file."""
    lines = [f"recorded {path}"]
    for name, src in (sources or {}).items():
        status = f" {src.status}" if src.status is not None else ""
        lines.append(f"  {name:<16} {src.outcome}{status}")
    for ex in case.exchanges:
        lines.append(f"  {ex.backend}: {ex.method} {ex.path} -> {ex.status}")
    calls = sum(len(v) for v in case.calls.values())
    lines += [f"  {calls} call(s) of service sources"] if calls else []
    return "\n".join(lines)
