"""Figures quoted from issue 18 beside this run's: where sff stood before, and published
anchors (other projects, other hardware). Quoted, never measured here: read them as scale."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks._common import Report, Target

# (what, sff when the issue was filed, anchors, the target of this run that measures it)
ANCHORS: list[tuple[str, str, str, str]] = [
    (
        "end-to-end ms per MiB, 1 MiB (large response)",
        "24.3 (hand-written json+jmespath+pydantic 32.2)",
        "Apollo Router ~15.5, Hive Router ~3.2 (published, ~8 MiB)",
        "large",
    ),
    (
        "`each` 5,000 items (cap 100): CPU per request vs raw asyncio",
        "4.0x (1,000 items: 2.4x)",
        "",
        "each 5000 items: sff / raw asyncio CPU per request",
    ),
    (
        "cold start, fresh process, 3 sources, deploy-like venv",
        "210 ms, 0.80x the fair hand-written handler (260 ms)",
        "Powertools resolver + httpx 288 ms; `python -c 'import asyncio'` 59 ms",
        "cold start: sff / hand-written httpx",
    ),
    (
        "CPU per backend request, warm, in-process",
        "0.27 ms (httpx 2.37 ms; aiohttp + jmespath + pydantic 0.26 ms)",
        "raw asyncio 0.11 ms; Apollo ~0.37 ms, Grafbase ~0.11 ms (derived)",
        "fan-out N=100 warm: sff CPU per backend request",
    ),
]


def _this_run(targets: Sequence[Target], prefix: str) -> str:
    found = [t for t in targets if t.name.startswith(prefix)]
    if not found:
        return "not in this run"
    return "; ".join(
        f"{t.value:.2f}{t.unit}" if t.unit == "x" else f"{t.value:.0f} {t.unit}" for t in found
    )


def anchors_table(reports: Sequence[Report]) -> str:
    targets = [t for report in reports for t in report.targets]
    lines = [
        "| measure | sff when issue 18 was filed | anchors (quoted) | this run |",
        "|---|---|---|---|",
    ]
    for what, before, anchors, prefix in ANCHORS:
        lines.append(f"| {what} | {before} | {anchors or '-'} | {_this_run(targets, prefix)} |")
    return "\n".join(lines)
