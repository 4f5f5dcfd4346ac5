"""What the JSON depth bound costs: `sff.jsonsafe.loads` (strict parse + depth check)
against the strict parse alone, on ordinary bodies, in the same process.

``python -m benchmarks.json_depth [--reps N]``: the median of N ratios per body (each
ratio: the same number of parses timed back to back), so a loaded machine changes the
absolute times, not the comparison. Not part of ``python -m benchmarks`` (its rows and
targets are another change's); run it alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import timeit
from collections.abc import Callable

from sff import jsonsafe

BODIES: dict[str, bytes] = {
    "object, 0.4 KB": json.dumps(
        {"id": 1, "name": "x" * 50, "owner": {"id": 2}, "items": [{"i": i} for i in range(20)]}
    ).encode(),
    "1,000 todos, 64 KB": json.dumps(
        [{"id": i, "title": f"t{i}", "done": i % 2 == 0, "tags": ["a", "b"]} for i in range(1000)]
    ).encode(),
    "10,000 nested, 0.8 MB": json.dumps(
        {
            "data": [
                {"id": i, "attrs": {"a": [1, 2, {"b": "c"}], "s": "x" * 20}} for i in range(10000)
            ]
        }
    ).encode(),
    "text with escaped quotes, 0.2 MB": json.dumps(
        [{"id": i, "html": '<a href="/x">[link]</a>'} for i in range(2000)]
    ).encode(),
}


def ratio(body: bytes, reps: int) -> tuple[float, float]:
    """(median ratio checked/plain, ms per plain parse)."""
    plain: Callable[[], object] = lambda: jsonsafe._DECODER.decode(  # noqa: E731
        body.decode(json.detect_encoding(body))
    )
    checked: Callable[[], object] = lambda: jsonsafe.loads(body, jsonsafe.MAX_DEPTH)  # noqa: E731
    number = max(5, int(2e6 // len(body)))
    ratios, times = [], []
    for _ in range(reps):
        base = timeit.timeit(plain, number=number)
        ratios.append(timeit.timeit(checked, number=number) / base)
        times.append(base / number * 1000)
    return statistics.median(ratios), statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.json_depth")
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"| body | parse ms | with depth check (ratio, median of {args.reps}) |")
    print("|---|---:|---:|")
    for name, body in BODIES.items():
        r, ms = ratio(body, args.reps)
        print(f"| {name} | {ms:.3f} | {r:.3f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
