"""`python -m benchmarks --smoke` runs every benchmark and reports in the agreed shape.

Structure only: timings are never asserted (the targets are checked by people reading
RESULTS.md from a full run, not by CI on a shared machine)."""

from __future__ import annotations

import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = [
    "fan-out", "deps/each", "cold start", "reshape", "resident", "memory", "coalescing", "large",
    "batch",
]  # fmt: skip


def test_smoke_run_prints_the_table_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,  # a guard against a hang; the smoke run takes ~100 s on a busy 2-core box
    )
    assert done.returncode == 0, done.stderr[-3000:]
    header = "| benchmark | case | variant | metric | min | median | max | ratio (median) |"
    assert header in done.stdout
    rows = [
        line.split("|")[1].strip() for line in done.stdout.splitlines() if line.startswith("| ")
    ]
    served = all(find_spec(m) is not None for m in ("uvicorn", "starlette"))
    for name in BENCHMARKS:
        optional = name in ("resident", "coalescing") and not served
        assert name in rows or optional, f"no row for {name}"
    variants = ["sff", "httpx", "raw asyncio", "hand-written"]
    for variant in [*variants, "starlette + httpx"] if served else variants:
        assert f"| {variant} |" in done.stdout
    text = out.read_text()
    for heading in ("# sff benchmarks: results", "## Targets", "## All measurements", "## Notes"):
        assert heading in text
    for field in ("- Date:", "- Machine:", "- Python:", "- Load average", "- Command: `python -m"):
        assert field in text
    assert "| target | value | limit | met |" in text
    assert "importtime" in text
