"""6. Memory: peak RSS of a fresh process running one invocation, and one 1,000-item `each`
fan-out; the hand-written pages (httpx, aiohttp) and a bare interpreter for scale (see
`apps._peak`), each in a deploy-like venv (`benchmarks._deploy`)."""

from __future__ import annotations

from functools import partial

from benchmarks._backend import backend_process
from benchmarks._common import Metrics, Report, Settings, Target, interleave, transpose
from benchmarks._deploy import deploy
from benchmarks._proc import run_python

BENCH = "memory"
REFERENCE = "hand-written httpx, one invocation"


def run(settings: Settings) -> Report:
    report = Report()
    items = 50 if settings.smoke else 1000
    commands = {
        "sff, one invocation": ("sff", ["-m", "benchmarks.apps.rss", "page_sff"]),
        REFERENCE: ("hand", ["-m", "benchmarks.apps.rss", "page_hand"]),
        "hand-written aiohttp, one invocation": (
            "hand",
            ["-m", "benchmarks.apps.rss", "page_aiohttp"],
        ),
        f"sff, each over {items} items": ("sff", ["-m", "benchmarks.apps.each_sff", str(items)]),
        "bare interpreter (asyncio imported)": ("sff", ["-m", "benchmarks.apps.rss", "-"]),
    }
    with backend_process() as url:
        venvs = {kind: deploy(kind) for kind in ("sff", "hand")}

        def rss(kind: str, args: list[str]) -> Metrics:
            out = run_python(args, url, deploy=venvs[kind])[1]
            return {"mb": int(out.strip().splitlines()[-1]) / 1024}

        runs = interleave(
            min(settings.reps, 5), {name: partial(rss, *c) for name, c in commands.items()}
        )
    stats = report.add(BENCH, "peak RSS", "MB", transpose(runs, "mb"), REFERENCE)
    report.notes.append(
        "memory: every process runs in a deploy-like venv (`benchmarks/_deploy.py`)"
    )
    report.targets.append(
        Target("memory: sff one invocation", stats["sff, one invocation"].max, 60, "MB")
    )
    report.targets.append(
        Target(
            f"memory: sff each over {items} items",
            stats[f"sff, each over {items} items"].max,
            120,
            "MB",
        )
    )
    return report
