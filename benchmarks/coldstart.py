"""3. Cold start: a fresh process imports a 3-source handler, invokes it once, exits.

Against the same page hand-written with httpx (the fair handler: module-level client) and
with aiohttp, each + jmespath + pydantic, and against ``python -c "import asyncio"`` (the
interpreter floor) and a handler that only validates and serializes the contract (the
floor any handler with that contract pays); every one in a deploy-like venv
(`benchmarks._deploy`), never the test venv. Plus the ``-X importtime`` breakdown of
sff's handler path: top modules by self time.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import tempfile
from functools import partial

from benchmarks._backend import backend_process
from benchmarks._common import Metrics, Report, Settings, Target, interleave, transpose
from benchmarks._deploy import BEFORE_WIRE, deploy
from benchmarks._proc import run_python

BENCH = "cold start"
REFERENCE = "hand-written httpx"
# what every variant pays (`apps.page_floor`): the 0.6x target is only reachable above it
FLOOR = "floor: asyncio + pydantic + the page's contracts, no HTTP"
COMMANDS = {
    "sff": ("sff", ["-m", "benchmarks.apps.page_sff"]),
    REFERENCE: ("hand", ["-m", "benchmarks.apps.page_hand"]),
    "hand-written aiohttp": ("hand", ["-m", "benchmarks.apps.page_aiohttp"]),
    "python -c 'import asyncio'": ("sff", ["-c", "import asyncio"]),
    FLOOR: ("sff", ["-m", "benchmarks.apps.page_floor"]),
}
BUDGET_MS = 150
BEFORE = f"sff before the wire issue ({BEFORE_WIRE}, hand-written HTTP/1.1)"


def run(settings: Settings) -> Report:
    report = Report()
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(backend_process())
        kinds = ("sff", "hand") if settings.smoke else ("sff", "hand", "sff-otel")
        venvs = {kind: deploy(kind) for kind in kinds}
        if not settings.smoke:
            try:
                venvs["sff-before-wire"] = deploy("sff-before-wire")
            except subprocess.CalledProcessError:  # a clone without that history
                report.notes.append(f"cold start: commit {BEFORE_WIRE} not here; no wire row")

        def variant(
            kind: str, args: list[str], no_pyc: str | None = None, env: dict[str, str] | None = None
        ) -> Metrics:
            wall = run_python(args, url, no_pyc=no_pyc, extra_env=env, deploy=venvs[kind])[0]
            return {"wall_ms": wall}

        variants = {name: partial(variant, *command) for name, command in COMMANDS.items()}
        empty = stack.enter_context(tempfile.TemporaryDirectory())
        variants["sff, no .pyc at all"] = partial(variant, *COMMANDS["sff"], empty)
        if "sff-before-wire" in venvs:
            variants[BEFORE] = partial(variant, "sff-before-wire", COMMANDS["sff"][1])
        if "sff-otel" in venvs:  # a third venv to build: full runs only
            variants["sff, tracing on (OTLP/HTTP)"] = partial(
                variant, "sff-otel", COMMANDS["sff"][1], env=traced_env(url)
            )
        runs = interleave(max(settings.reps, 1) * (1 if settings.smoke else 2), variants, warmup=1)
        stats = report.add(
            BENCH, "3-source handler", "wall ms", transpose(runs, "wall_ms"), REFERENCE
        )
        floor = stats["python -c 'import asyncio'"].median
        sff = stats["sff"].median
        above = (sff - floor) / max(stats[REFERENCE].median - floor, 1e-6)
        report.targets.append(
            Target("cold start: sff / hand-written httpx", sff / stats[REFERENCE].median, 0.6)
        )
        report.targets.append(Target("cold start: sff, fresh process", sff, BUDGET_MS, "ms"))
        report.notes.append(
            "cold start: every variant runs in a deploy-like venv built by the benchmark "
            "(`benchmarks/_deploy.py`: only the handler's runtime distributions, .pyc "
            f"compiled); above the interpreter floor sff / hand-written httpx = {above:.2f}x, "
            f"sff / hand-written aiohttp = {sff / stats['hand-written aiohttp'].median:.2f}x"
        )
        contracts = stats[FLOOR].median
        report.notes.append(
            f"cold start: the contract floor ({FLOOR}) is {contracts:.0f} ms, "
            f"{contracts / stats[REFERENCE].median:.2f}x hand-written httpx; above it sff "
            f"takes {sff - contracts:.0f} ms, hand-written httpx "
            f"{stats[REFERENCE].median - contracts:.0f} ms, hand-written aiohttp "
            f"{stats['hand-written aiohttp'].median - contracts:.0f} ms"
        )
        if BEFORE in stats:
            added = sff - stats[BEFORE].median
            report.targets.append(
                Target(
                    "cold start: sff on httptools - sff on its own wire (issue 10)", added, 15, "ms"
                )
            )
        traces = [
            run_python(COMMANDS["sff"][1], url, flags=("-X", "importtime"), deploy=venvs["sff"])[1]
            for _ in range(1 if settings.smoke else 5)
        ]
        own = median_own_times(traces)
        report.notes.append(
            f"sff handler path, `-X importtime` (median of {len(traces)} runs in the deploy "
            "venv), top modules by self time:\n\n" + modules_table(own)
        )
        report.notes.append("the same, by package:\n\n" + packages_table(own))
    return report


def traced_env(url: str) -> dict[str, str]:
    """Tracing turned on the standard way; the spans are flushed (one POST) before the
    handler answers. The benchmark backend answers the POST itself (with a 404), which
    costs the same round trip as a collector's 200."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_SERVICE_NAME": "bench"}


def own_times(trace: str) -> dict[str, int]:
    """Each module's own import time in microseconds, from one ``-X importtime`` trace."""
    own: dict[str, int] = {}
    for line in trace.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        own[parts[2].strip()] = int(parts[0])
    return own


def median_own_times(traces: list[str]) -> dict[str, float]:
    """Per module, the median own time over several traces (a module missing from a trace
    counts as 0 there)."""
    runs = [own_times(trace) for trace in traces]
    names = {name for run in runs for name in run}
    return {name: statistics.median(run.get(name, 0) for run in runs) for name in names}


def modules_table(own: dict[str, float], top: int = 25) -> str:
    ranked = sorted(own.items(), key=lambda kv: kv[1], reverse=True)
    lines = ["| module | self ms |", "|---|---:|"]
    lines += [f"| {name} | {us / 1000:.2f} |" for name, us in ranked[:top]]
    rest = sum(us for _, us in ranked[top:])
    lines.append(f"| ({len(ranked) - top} other modules) | {rest / 1000:.1f} |")
    lines.append(f"| **total** | {sum(own.values()) / 1000:.1f} |")
    return "\n".join(lines)


def packages_table(own: dict[str, float], top: int = 15) -> str:
    """Import time by top-level package (the sum of its modules' own times), markdown."""
    packages: dict[str, float] = {}
    for name, us in own.items():
        package = name.split(".")[0]
        packages[package] = packages.get(package, 0) + us
    ranked = sorted(packages.items(), key=lambda kv: kv[1], reverse=True)
    lines = ["| package | import ms (own time of its modules) |", "|---|---:|"]
    lines += [f"| {name} | {us / 1000:.1f} |" for name, us in ranked[:top]]
    rest = sum(us for _, us in ranked[top:])
    lines.append(f"| ({len(ranked) - top} others) | {rest / 1000:.1f} |")
    lines.append(f"| **total** | {sum(packages.values()) / 1000:.1f} |")
    return "\n".join(lines)
