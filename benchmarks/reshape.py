"""4. Reshape: ms per MB of parse + shape + validate, against JMESPath and the parser alone.

Payloads are the demo backend's ``/big?kb=N`` arrays of todo-like records. The shape
counts them and projects the open ones into a contract; the baselines run the same
JMESPath expression (compiled once) over ``json.loads`` output, and ``json.loads`` alone.
Then the evaluator alone, sff's compiled closures against jmespath's interpreter, on a
1 MB document (`benchmarks._evaluator`).
"""

from __future__ import annotations

import gc
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import httpx
import jmespath
from pydantic import BaseModel

from benchmarks import _evaluator as evaluator
from benchmarks._backend import backend_process
from benchmarks._common import Metrics, Report, Settings, Target, interleave, transpose
from sff import Backend, Function
from sff.http.response import parse_json
from sff.reads import reads_of

BENCH = "reshape"
SHAPE = "{count: length(todos), open: todos[?!done].{id: id, title: title, tags: tags}}"


class Item(BaseModel):
    id: int
    title: str
    tags: list[str]


class Summary(BaseModel):
    count: int
    open: list[Item]


def shaped_function() -> Function:
    api = Backend("api", default="http://127.0.0.1:9")
    return Function("summary", sources={"todos": api.get("/big")}, shape=SHAPE, contract=Summary)


def per_mb(size: int, work: Callable[[], Any]) -> Callable[[], Metrics]:
    def sample() -> Metrics:
        gc.collect()  # every variant starts clean: no collector debt from the one before
        started = time.perf_counter()
        work()
        return {"ms_per_mb": (time.perf_counter() - started) * 1000 / (size / 1e6)}

    return sample


def run(settings: Settings) -> Report:
    report = Report()
    with backend_process() as url:
        bodies = [
            urllib.request.urlopen(f"{url}/big?kb={kb}").read()
            for kb in settings.sizes([300, 3000], [30])
        ]
    for body in bodies:
        measure(report, body, settings.reps)
    evaluator.measure(report, settings)
    return report


def measure(report: Report, body: bytes, reps: int) -> None:
    fn, expr = shaped_function(), jmespath.compile(SHAPE)
    request = httpx.Request("GET", "http://127.0.0.1:9/big")
    size = len(body)
    reads = reads_of(fn)["todos"]  # what the shape reads: a large body is decoded into that

    def sff() -> Any:
        todos = parse_json("todos", request, 200, body, reads)
        return fn.shape.apply({"input": {}, "todos": todos})

    runs = interleave(
        reps,
        {
            "sff": per_mb(size, sff),
            "json + jmespath": per_mb(size, lambda: expr.search({"todos": json.loads(body)})),
            "json + jmespath + pydantic": per_mb(
                size, lambda: Summary.model_validate(expr.search({"todos": json.loads(body)}))
            ),
            "json.loads": per_mb(size, lambda: json.loads(body)),
        },
    )
    case = f"{size / 1e6:.2f} MB"
    stats = report.add(BENCH, case, "ms/MB", transpose(runs, "ms_per_mb"), "json + jmespath")
    ratio = stats["sff"].median / stats["json + jmespath"].median
    report.targets.append(Target(f"reshape {case}: sff / (json + jmespath)", ratio, 1.2))
