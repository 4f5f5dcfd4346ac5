"""Figures quoted from issue 18 beside this run's: where sff stood before, and published
anchors (other projects, other hardware). Quoted, never measured here: read them as scale."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks._common import Report, Target

# (what, sff when the issue was filed, anchors, what of this run measures it: the prefix of
# a target's name, or ``row:bench|case prefix|variant|metric`` for a row's median)
ANCHORS: list[tuple[str, str, str, str]] = [
    (
        "end-to-end ms per MiB, 1 MiB (large response)",
        "24.3 (hand-written json+jmespath+pydantic 32.2)",
        "Apollo Router ~15.5, Hive Router ~3.2 (published, ~8 MiB)",
        "row:large|1 MiB|sff|ms/MiB",
    ),
    (
        "`each` 5,000 items (cap 100): CPU per request vs raw asyncio",
        "4.0x (1,000 items: 2.4x)",
        "",
        "each 5000 items: sff / raw asyncio CPU per request",
    ),
    (
        "`each` 1,000 items (cap 100): CPU per request vs raw asyncio",
        "2.4x",
        "",
        "each 1000 items: sff / raw asyncio CPU per request",
    ),
    (
        "cold start, fresh process, 3 sources, deploy-like venv",
        "210 ms, 0.80x the fair hand-written handler (260 ms)",
        "Powertools resolver + httpx 288 ms; `python -c 'import asyncio'` 59 ms",
        "cold start: sff",
    ),
    (
        "CPU per backend request, warm, in-process",
        "0.27 ms (httpx 2.37 ms; aiohttp + jmespath + pydantic 0.26 ms)",
        "raw asyncio 0.11 ms; Apollo ~0.37 ms, Grafbase ~0.11 ms (derived)",
        "fan-out N=100 warm: sff CPU per backend request",
    ),
]


def _this_run(reports: Sequence[Report], prefix: str) -> str:
    if prefix.startswith("row:"):
        bench, case, variant, metric = prefix[4:].split("|")
        rows = [r for report in reports for r in report.rows]
        hits = [
            r.stats.median
            for r in rows
            if (r.bench, r.variant, r.metric) == (bench, variant, metric)
            and r.case.startswith(case)
        ]
        return f"{hits[0]:.1f}" if hits else "not in this run"
    targets: list[Target] = [t for report in reports for t in report.targets]
    found = [t for t in targets if t.name.startswith(prefix)]
    if not found:
        return "not in this run"
    return "; ".join(
        f"{t.value:.2f}{t.unit}" if t.unit == "x" else f"{t.value:.0f} {t.unit}" for t in found
    )


def anchors_table(reports: Sequence[Report]) -> str:
    lines = [
        "| measure | sff when issue 18 was filed | anchors (quoted) | this run |",
        "|---|---|---|---|",
    ]
    for what, before, anchors, prefix in ANCHORS:
        lines.append(f"| {what} | {before} | {anchors or '-'} | {_this_run(reports, prefix)} |")
    return "\n".join(lines)
