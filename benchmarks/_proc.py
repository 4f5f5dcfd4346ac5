"""Fresh-process runs: wall time of a whole use-and-destroy invocation, and its output."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from benchmarks._backend import ROOT
from benchmarks._deploy import Deploy


def run_python(
    args: list[str],
    api: str,
    *,
    flags: tuple[str, ...] = (),
    no_pyc: str | None = None,
    extra_env: dict[str, str] | None = None,
    deploy: Deploy | None = None,
) -> tuple[float, str]:
    """Milliseconds from spawn to exit of ``python [flags] args``, and its output.

    ``no_pyc`` (an empty directory) makes Python look for bytecode there and write none,
    so every module is compiled from source, as in a package shipped without .pyc files.
    ``deploy`` runs the deploy-like venv's interpreter in its task root instead of this one.
    """
    python, cwd = (str(deploy.python), deploy.task) if deploy else (sys.executable, ROOT)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env.update({"BENCH_API": api, "PYTHONPATH": str(cwd), **(extra_env or {})})
    if no_pyc is not None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        flags = ("-X", f"pycache_prefix={no_pyc}", *flags)
    started = time.perf_counter()
    done = subprocess.run([python, *flags, *args], cwd=cwd, env=env, capture_output=True, text=True)
    wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return wall, done.stdout + done.stderr
