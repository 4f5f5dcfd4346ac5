"""The demo backend in its own process, so its CPU never counts as the client's."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DELAY_HEADER = "x-demo-delay-ms"


@contextlib.contextmanager
def backend_process(*args: str) -> Iterator[str]:
    """Start ``python -m demo.backend`` on a free loopback port; yield its base URL.
    ``args`` go to the backend (e.g. ``--crowd 37:100``)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo.backend", "--host", "127.0.0.1", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "http://" not in line:
            raise RuntimeError(f"demo backend did not start: {line!r}")
        yield line.split("listening on ", 1)[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
