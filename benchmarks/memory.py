"""6. Memory: peak RSS of a fresh process running one invocation, and one 1,000-item `each`
fan-out; the hand-written page and a bare interpreter for scale (see `apps._peak`)."""

from __future__ import annotations

from functools import partial

from benchmarks._backend import backend_process
from benchmarks._common import Metrics, Report, Settings, Target, interleave, transpose
from benchmarks._proc import run_python

BENCH = "memory"


def run(settings: Settings) -> Report:
    report = Report()
    items = 50 if settings.smoke else 1000
    commands = {
        "sff, one invocation": ["-m", "benchmarks.apps.rss", "page_sff"],
        "hand-written, one invocation": ["-m", "benchmarks.apps.rss", "page_hand"],
        f"sff, each over {items} items": ["-m", "benchmarks.apps.each_sff", str(items)],
        "bare interpreter (asyncio imported)": ["-m", "benchmarks.apps.rss", "-"],
    }
    with backend_process() as url:

        def rss(args: list[str]) -> Metrics:
            out = run_python(args, url)[1]
            return {"mb": int(out.strip().splitlines()[-1]) / 1024}

        runs = interleave(
            min(settings.reps, 5), {name: partial(rss, a) for name, a in commands.items()}
        )
    stats = report.add(
        BENCH, "peak RSS", "MB", transpose(runs, "mb"), "hand-written, one invocation"
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
