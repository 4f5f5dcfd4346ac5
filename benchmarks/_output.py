"""The table printed at the end and the RESULTS.md written next to it."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from collections.abc import Sequence

from benchmarks._anchors import anchors_table
from benchmarks._common import Report, Row

HOW_TO_READ = [
    "Variants: **sff** is the framework as shipped; **httpx** / **hand-written httpx** /",
    "**starlette + httpx** is the obvious code a competent developer writes for the same",
    "calls (one default `httpx.AsyncClient`, `asyncio.gather`, `jmespath`, pydantic);",
    "**aiohttp** / **hand-written aiohttp** / **starlette + aiohttp** the same over one",
    "`aiohttp.ClientSession` (the peer such a developer picks for async fan-out);",
    "**raw asyncio** writes HTTP/1.1 straight onto asyncio streams (the floor).",
    "Cold start and memory run in deploy-like venvs the benchmark builds",
    "(`benchmarks/_deploy.py`): only a handler's runtime distributions, .pyc compiled,",
    "never the test venv.",
    "*fresh* opens and closes a client per invocation (use-and-destroy FaaS); *warm*",
    "keeps one client across invocations (resident). The backend adds 50 ms per call in",
    "fan-out and deps; overhead is wall time above that. CPU is this process's CPU time",
    "per backend request. In-process samples start after `gc.collect()`.",
]


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            names = [
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            ]
        model = names[0] if names else model
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| benchmark | case | variant | metric | min | median | max | ratio (median) |",
        "|---|---|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        ratio = f"{r.ratio:.2f}x {r.reference}" if r.ratio is not None else ""
        lines.append(
            f"| {r.bench} | {r.case} | {r.variant} | {r.metric} | {fmt(r.stats.min)} | "
            f"{fmt(r.stats.median)} | {fmt(r.stats.max)} | {ratio} |"
        )
    return "\n".join(lines)


def targets(reports: Sequence[Report]) -> str:
    lines = ["| target | value | limit | met |", "|---|---:|---:|---|"]
    for report in reports:
        for t in report.targets:
            value = f"{t.value:.2f}{t.unit}" if t.unit == "x" else f"{t.value:.1f} {t.unit}"
            limit = f"<= {t.limit:g}{t.unit}" if t.unit == "x" else f"<= {t.limit:g} {t.unit}"
            lines.append(f"| {t.name} | {value} | {limit} | {'yes' if t.met else '**no**'} |")
    return "\n".join(lines)


def results(
    reports: Sequence[Report], command: str, started: dt.datetime, load_before: str, reps: int
) -> str:
    rows = [row for report in reports for row in report.rows]
    notes = [note for report in reports for note in report.notes]
    return "\n".join(
        [
            "# sff benchmarks: results",
            "",
            f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z').strip()}",
            f"- Machine: {machine()}",
            f"- Python: {sys.version.split()[0]} ({platform.python_implementation()})",
            f"- Load average (1, 5, 15 min): before {load_before}; after {load()}",
            f"- Command: `{command}` ({reps} repetitions, variants interleaved)",
            "- Everything runs on loopback; the demo backend runs in its own process.",
            "",
            "Ratios compare medians against the case's reference variant "
            "(lower is better except requests/s).",
            "",
            *HOW_TO_READ,
            "",
            "## Targets",
            "",
            targets(reports),
            "",
            "## Beside the anchors (issue 18)",
            "",
            anchors_table(reports),
            "",
            "## All measurements",
            "",
            table(rows),
            "",
            "## Notes",
            "",
            *[f"- {note}\n" if "\n" not in note else f"{note}\n" for note in notes],
        ]
    )
