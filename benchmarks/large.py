"""10. Large responses: one source answering 1, 8 and 32 MiB of 20-field objects, shaped to 2
fields into a contract and serialized, end to end in a fresh process (`apps.large_app`).

Per size and variant: ms per MiB of body (fetch to serialized answer) and peak RSS growth
per MiB of body (the peak over the RSS just before the request, in MiB per MiB: 1.0 is
the body's own size). Variants: sff; hand-written with httpx and ``json`` + jmespath +
pydantic (the reference), orjson + a comprehension + pydantic, and msgspec decoding
straight into typed structs and encoding (no pydantic). The bodies are served from a thread
of this process; each measured run is its own interpreter, so only its own work counts, and
runs in a deploy-like venv (`benchmarks._deploy`: only what the handler ships), never in the
test venv, whose extra imports and path entries are memory a deployed handler never holds.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from benchmarks._common import Metrics, Report, Settings, Target, interleave, transpose
from benchmarks._deploy import Deploy, deploy
from benchmarks._proc import run_python

BENCH = "large"
MIB = 1024 * 1024
VARIANTS = {
    "sff": "sff",
    "sff, full parse (projection off)": "sff-full",
    "hand-written json+jmespath+pydantic": "json",
    "hand-written orjson+pydantic": "orjson",
    "hand-written msgspec structs": "msgspec",
}
REFERENCE = "hand-written json+jmespath+pydantic"


def body(mib: float) -> bytes:
    """About ``mib`` MiB of a JSON array of 20-field objects (ids, text, numbers, flags)."""
    one = {
        "id": 0,
        **{f"f{k}": f"value {k} of the row" for k in range(1, 9)},
        **{f"n{k}": 12345.678 * k for k in range(9, 15)},
        **{f"b{k}": k % 2 == 0 for k in range(15, 18)},
        "tags": ["a", "b"],
        "owner": {"id": 7, "name": "Ada"},
    }
    size = len(json.dumps(one)) + 2
    rows = []
    for i in range(max(1, int(mib * MIB / size))):
        row = dict(one)
        row["id"], row["f1"] = i, f"row {i}"
        rows.append(row)
    return json.dumps(rows, separators=(",", ":")).encode()


@contextmanager
def body_server(sizes: list[int]) -> Iterator[tuple[str, dict[str, bytes]]]:
    bodies = {str(m): body(m) for m in sizes}
    bodies["0"] = body(0.1)  # the warm-up run's

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            mib = parse_qs(urlparse(self.path).query).get("mib", ["0"])[0]
            data = bodies[mib]
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    finally:
        server.shutdown()
        server.server_close()


def kind(variant: str) -> str:
    """The deploy-like venv a variant runs in: sff's, or httpx and the hand-written parsers."""
    return "sff" if variant.startswith("sff") else "hand-large"


def sample(venv: Deploy, variant: str, url: str, mib: int, size: int) -> Metrics:
    args = ["-m", "benchmarks.apps.large_app", variant, url, str(mib)]
    out = run_python(args, url, deploy=venv)[1]
    measured = json.loads(out.strip().splitlines()[-1])
    per = size / MIB
    return {"ms_per_mib": measured["ms"] / per, "rss_per_mib": measured["growth_kib"] / 1024 / per}


def run(settings: Settings) -> Report:
    report = Report()
    sizes = settings.sizes([1, 8, 32], [1])
    reps = min(settings.reps, 5)
    venvs = {kind(v): deploy(kind(v)) for v in VARIANTS.values()}
    with body_server(sizes) as (url, bodies):
        for mib in sizes:
            size = len(bodies[str(mib)])
            runs = interleave(
                reps,
                {
                    name: partial(sample, venvs[kind(v)], v, url, mib, size)
                    for name, v in VARIANTS.items()
                },
                warmup=0,
            )
            case = f"{mib} MiB of 20-field objects -> 2 fields"
            report.add(BENCH, case, "ms/MiB", transpose(runs, "ms_per_mib"), REFERENCE)
            rss = report.add(
                BENCH, case, "peak RSS growth, MiB/MiB", transpose(runs, "rss_per_mib")
            )
            report.targets.append(
                Target(f"large: sff peak RSS growth at {mib} MiB", rss["sff"].median, 2.0, "x body")
            )
    report.notes.append(
        "large: fresh process per run (after a warm-up request on a 0.1 MiB body), in a "
        "deploy-like venv (`benchmarks/_deploy.py`); RSS growth is the peak over the RSS "
        "just before the request, per MiB of body"
    )
    return report
