"""Part of the reshape benchmark: sff's compiled evaluator against jmespath's interpreter.

Both sides evaluate the same expressions, compiled once, over the same parsed ~1 MB
document of todo-like records; parsing is left out so only evaluation is compared. The
figure of merit is the geometric mean over the expressions of interpreter time / sff time.
"""

from __future__ import annotations

import gc
import json
import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import jmespath

from benchmarks._common import Metrics, Report, Settings, Target, interleave, transpose
from demo.seed import big_body
from sff.expr import Where, compile_expr

BENCH = "reshape"

# Projections, filters, multiselect and functions, including the expression-reference ones.
EXPRESSIONS = {
    "projection": "todos[*].title",
    "flatten": "todos[].tags[]",
    "filter": "todos[?!done].id",
    "filter and compare": "todos[?priority == 'high' && user_id > `10`].{id: id, due: due}",
    "multiselect": "todos[*].{id: id, title: title, tags: tags, owner: user_id}",
    "functions": "length(todos[?contains(tags, 'urgent')])",
    "sort_by": "sort_by(todos, &due)[:10].id",
    "max_by": "max_by(todos, &id).title",
}


def per_call(work: Callable[[], Any], loops: int) -> Callable[[], Metrics]:
    def sample() -> Metrics:
        gc.collect()
        started = time.perf_counter()
        for _ in range(loops):
            work()
        return {"ms": (time.perf_counter() - started) * 1000 / loops}

    return sample


def measure(report: Report, settings: Settings) -> None:
    body = big_body(30 if settings.smoke else 1000)
    context = {"todos": json.loads(body)}
    case_mb = f"{len(body) / 1e6:.2f} MB"
    ratios: list[float] = []
    for name, text in EXPRESSIONS.items():
        ours, theirs = compile_expr(text, Where("bench", name)), jmespath.compile(text)
        assert ours.search(context) == theirs.search(context), name
        loops = 1 if settings.smoke else 3
        runs = interleave(
            settings.reps,
            {
                "sff compiled": per_call(partial(ours.search, context), loops),
                "jmespath interpreter": per_call(partial(theirs.search, context), loops),
            },
        )
        case = f"evaluate {name}, {case_mb}"
        stats = report.add(BENCH, case, "ms", transpose(runs, "ms"), "jmespath interpreter")
        ratios.append(stats["jmespath interpreter"].median / stats["sff compiled"].median)
    speedup = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    # Targets are "value <= limit": state the speed-up as its inverse, the share of the time.
    report.targets.append(
        Target(
            f"evaluate {case_mb}: sff compiled / jmespath interpreter (geomean)",
            1 / speedup,
            round(1 / 2.3, 3),  # at least 2.3x faster
        )
    )
    report.notes.append(
        f"compiled evaluator: {speedup:.2f}x faster than the jmespath interpreter "
        f"(geometric mean over {len(ratios)} expressions on {case_mb}; target >= 2.3x)"
    )
