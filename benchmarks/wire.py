"""7. The wire: the protocol library sff parses answers with, and memory under hostile answers.

*protocol*: the two maintained HTTP/1.1 implementations the plain-http path could stand
on, h11 (pure Python; httpcore's and uvicorn's) and httptools (llhttp in C; uvicorn's),
each doing what one backend request needs of it - the request written (h11 serializes it;
httptools has no writer, so sff writes the checked head itself) and a typical JSON answer
parsed - in this process, and the import each adds to a cold start. sff uses httptools:
see the numbers.

*hostile*: a fresh process invokes one source with a 1 MiB cap against a server (in a
child process) that answers one 200 MiB chunk, or a 512 MB gzip bomb. The row is the
peak RSS above the process's own baseline (after a warm-up invocation): the target is at
most 2 x the cap + 16 MB.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import h11

from benchmarks._common import Metrics, Report, Settings, Target, interleave, transpose
from benchmarks._proc import run_python

BENCH = "wire"
CAP = 1024 * 1024
REQUEST_FIELDS = [
    ("Host", "127.0.0.1:8000"),
    ("Accept", "*/*"),
    ("Accept-Encoding", "gzip, deflate, br, zstd"),
    ("Connection", "keep-alive"),
    ("User-Agent", "python-httpx/0.28.1"),
    ("x-request-id", "6f1c0e2a9b8d4c3e"),
]
ANSWER = (
    b"HTTP/1.1 200 OK\r\ndate: Wed, 02 Dec 2026 06:00:00 GMT\r\nserver: uvicorn\r\n"
    b"content-length: 400\r\ncontent-type: application/json\r\n\r\n" + b"x" * 400
)


def h11_exchange() -> None:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/todos/1?userId=1", headers=REQUEST_FIELDS))
    conn.send(h11.EndOfMessage())
    conn.receive_data(ANSWER)
    while type(conn.next_event()) is not h11.EndOfMessage:
        pass


def httptools_exchange() -> None:
    from sff.http.fields import head
    from sff.http.message import Message

    fields = [(n.encode(), v.encode()) for n, v in REQUEST_FIELDS]
    head("GET", "/todos/1?userId=1", fields)
    message = Message(head_only=False)
    message.feed(ANSWER)
    assert message.done


def per_exchange(work: Callable[[], None], n: int) -> Metrics:
    started = time.process_time()
    for _ in range(n):
        work()
    return {"cpu_us": (time.process_time() - started) * 1e6 / n}


def run(settings: Settings) -> Report:
    report = Report()
    n = 200 if settings.smoke else 5000
    runs = interleave(
        settings.reps,
        {
            "h11": partial(per_exchange, h11_exchange, n),
            "httptools": partial(per_exchange, httptools_exchange, n),
        },
    )
    stats = report.add(
        BENCH, "protocol: one exchange", "CPU us", transpose(runs, "cpu_us"), "httptools"
    )
    report.notes.append(
        f"wire: one exchange costs {stats['h11'].median:.0f} us of CPU with h11 and "
        f"{stats['httptools'].median:.1f} us with httptools"
    )

    def wall(code: str) -> Metrics:
        return {"ms": run_python(["-c", code], "")[0]}

    imports = interleave(
        settings.reps,
        {
            "import h11": partial(wall, "import asyncio, h11"),
            "import httptools": partial(wall, "import asyncio, httptools"),
            "import asyncio": partial(wall, "import asyncio"),
        },
    )
    report.add(
        BENCH, "protocol: cold import", "wall ms", transpose(imports, "ms"), "import asyncio"
    )

    def hostile(case: str) -> Metrics:
        out = run_python(["-m", "benchmarks.apps.hostile", case, str(CAP)], "")[1]
        baseline, peak = map(int, out.strip().splitlines()[-1].split())
        return {"mb": (peak - baseline) / 1024}

    cases = {"one 200 MiB chunk": "chunk", "512 MB gzip bomb": "bomb"}
    memory = interleave(
        1 if settings.smoke else 3,
        {name: partial(hostile, case) for name, case in cases.items()},
        warmup=0,
    )
    rss = report.add(
        BENCH, "hostile answer, 1 MiB cap", "peak RSS above baseline MB", transpose(memory, "mb")
    )
    for name, st in rss.items():
        report.targets.append(
            Target(f"wire: {name} under a 1 MiB cap, RSS above baseline", st.max, 2 + 16, "MB")
        )
    return report
