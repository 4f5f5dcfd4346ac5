"""3. Cold start: a fresh process imports a 3-source handler, invokes it once, exits.

Against the same page hand-written with httpx + jmespath + pydantic, and against
``python -c "import asyncio"`` (the interpreter floor). Plus the ``-X importtime``
breakdown of sff's handler path.
"""

from __future__ import annotations

import contextlib
import tempfile
from functools import partial

from benchmarks._backend import backend_process
from benchmarks._common import Metrics, Report, Settings, Target, interleave, transpose
from benchmarks._proc import run_python

BENCH = "cold start"
COMMANDS = {
    "sff": ["-m", "benchmarks.apps.page_sff"],
    "hand-written": ["-m", "benchmarks.apps.page_hand"],
    "python -c 'import asyncio'": ["-c", "import asyncio"],
}


def run(settings: Settings) -> Report:
    report = Report()
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(backend_process())

        def variant(
            args: list[str], no_pyc: str | None = None, env: dict[str, str] | None = None
        ) -> Metrics:
            return {"wall_ms": run_python(args, url, no_pyc=no_pyc, extra_env=env)[0]}

        variants = {name: partial(variant, args) for name, args in COMMANDS.items()}
        empty = stack.enter_context(tempfile.TemporaryDirectory())
        variants["sff, no .pyc at all"] = partial(variant, COMMANDS["sff"], empty)
        variants["sff, tracing on (OTLP/HTTP)"] = partial(
            variant, COMMANDS["sff"], env=traced_env(url)
        )
        runs = interleave(
            max(settings.reps, 1) * (1 if settings.smoke else 2),
            variants,
            warmup=1,  # writes the .pyc files the other variants then use
        )
        stats = report.add(
            BENCH, "3-source handler", "wall ms", transpose(runs, "wall_ms"), "hand-written"
        )
        floor = stats["python -c 'import asyncio'"].median
        above = (stats["sff"].median - floor) / max(stats["hand-written"].median - floor, 1e-6)
        report.targets.append(
            Target(
                "cold start: sff / hand-written",
                stats["sff"].median / stats["hand-written"].median,
                0.8,
            )
        )
        report.notes.append(
            f"cold start above the interpreter floor: sff / hand-written = {above:.2f}x"
        )
        _, trace = run_python(COMMANDS["sff"], url, flags=("-X", "importtime"))
        report.notes.append(
            "sff handler path, `-X importtime`, by package:\n\n" + importtime_table(trace)
        )
    return report


def traced_env(url: str) -> dict[str, str]:
    """Tracing turned on the standard way; the spans are flushed (one POST) before the
    handler answers. The benchmark backend answers the POST itself (with a 404), which
    costs the same round trip as a collector's 200."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_SERVICE_NAME": "bench"}


def importtime_table(trace: str, top: int = 12) -> str:
    """Import time by top-level package (the sum of each module's own time), markdown."""
    own: dict[str, int] = {}
    for line in trace.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        own[package] = own.get(package, 0) + int(parts[0])
    ranked = sorted(own.items(), key=lambda kv: kv[1], reverse=True)
    lines = ["| package | import ms (own time of its modules) |", "|---|---:|"]
    lines += [f"| {name} | {us / 1000:.1f} |" for name, us in ranked[:top]]
    rest = sum(us for _, us in ranked[top:])
    lines.append(f"| ({len(ranked) - top} others) | {rest / 1000:.1f} |")
    lines.append(f"| **total** | {sum(own.values()) / 1000:.1f} |")
    return "\n".join(lines)
