"""What the deadline margin must cover: the work between the sources' deadline and the
platform getting its answer (shape + contract + response body + the platform envelope),
measured through the Lambda adapter's own functions on a realistic page (the dashboard
shape over 200 todos), with the machine loaded by busy processes.

    python -m benchmarks.margin [--burners 4] [--runs 2000]

It prints p50/p99/max in ms. The default margin (`SFF_DEADLINE_MARGIN_MS`) must stay well
above the p99 here times the CPU share a small instance gets (a 128 MB Lambda gets about
1/14 of a vCPU).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import time
from pathlib import Path
from typing import Any

from sff.adapters._http import HttpResponse
from sff.adapters.aws_lambda import to_response
from sff.result import Meta, Result

CASE = Path(__file__).resolve().parents[1] / "tests" / "cases" / "dashboard" / "user_id-1.json"


def _context(todos: int) -> dict[str, Any]:
    case = json.loads(CASE.read_text("utf-8"))
    by_path = {x["request"]["path"].split("?")[0]: x["response"]["json"] for x in case["exchanges"]}
    base = by_path["/todos"]
    many = [{**base[i % len(base)], "id": i + 1} for i in range(todos)]
    return {
        "input": case["input"],
        "user": by_path["/users/1"],
        "team": by_path["/teams/1"],
        "members": by_path["/teams/1/members"],
        "todos": many,
    }


def _burn(stop: Any) -> None:
    while not stop.is_set():
        sum(range(10_000))


def measure(runs: int, todos: int) -> list[float]:
    from functions.dashboard import dashboard

    context = _context(todos)
    event = {"requestContext": {"http": {"method": "GET"}}}
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        data = dashboard.shape.apply(context)
        result = Result(data, Meta("dashboard", "r1"))
        response = HttpResponse(result.status, result.headers(), result.body())
        json.dumps(to_response("v2", event, response))  # what the runtime sends back
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.margin")
    parser.add_argument("--burners", type=int, default=4, help="busy processes loading the CPU")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--todos", type=int, default=200)
    args = parser.parse_args()
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop,)) for _ in range(args.burners)]
    for process in burners:
        process.start()
    try:
        samples = sorted(measure(args.runs, args.todos))
    finally:
        stop.set()
        for process in burners:
            process.join()
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(
        f"shape+answer, {args.todos} todos, {args.burners} burners, {args.runs} runs: "
        f"p50 {statistics.median(samples):.2f} ms  p99 {p99:.2f} ms  max {samples[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
