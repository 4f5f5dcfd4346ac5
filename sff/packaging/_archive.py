"""Turn the staging folder into a zip: strip, compile for the target Python, zip.

Byte-reproducible: the same tree gives the same zip. Bytecode records a fixed source path
(where the platform unpacks the code), hash-based .pyc never look at file times, string
hashing is fixed while compiling (frozenset constants), and the zip has sorted entries,
fixed times and fixed modes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

PycMode = Literal["pycache", "off"]

_EPOCH = (1980, 1, 1, 0, 0, 0)
_STRIP_DIRS = {"__pycache__"}
_STRIP_NESTED_DIRS = {"tests", "test"}
_STRIP_SUFFIXES = (".pyc", ".pyo", ".pyi")
# pip bookkeeping: RECORD lists files we strip, direct_url.json names a local temp path.
_STRIP_DIST_INFO = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def strip(stage: Path) -> None:
    shutil.rmtree(stage / "bin", ignore_errors=True)  # console scripts with a local shebang
    for path in sorted(stage.rglob("*"), reverse=True):
        if not path.exists():
            continue
        if path.is_dir():
            nested = path.parent != stage
            if path.name in _STRIP_DIRS or (nested and path.name in _STRIP_NESTED_DIRS):
                shutil.rmtree(path)
        elif path.suffix in _STRIP_SUFFIXES or (
            path.parent.name.endswith(".dist-info") and path.name in _STRIP_DIST_INFO
        ):
            path.unlink()


def find_interpreter(version: str) -> str | None:
    """A Python `version` ("3.12") interpreter on this machine, or None."""
    if version == f"{sys.version_info.major}.{sys.version_info.minor}":
        return sys.executable
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python{version}")]
    candidates += [str(p) for p in sorted(pyenv.glob(f"versions/{version}.*/bin/python{version}"))]
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    for candidate in candidates:
        if not candidate:
            continue
        done = subprocess.run(
            [candidate, "-I", "-c", probe], capture_output=True, text=True, check=False
        )
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


def compile_tree(
    stage: Path,
    version: str,
    mode: PycMode,
    progress: Callable[[str], None],
    warnings: list[str],
    *,
    code_root: str,
) -> str:
    """Bytecode for the target interpreter, so a cold start does not compile (the platforms'
    code directories are read-only, so nothing compiled there is ever kept). Tracebacks
    name ``code_root`` (where the platform unpacks the zip), never the build folder."""
    if mode == "off":
        return "no .pyc (disabled)"
    interpreter = find_interpreter(version)
    if interpreter is None:
        warnings.append(
            f"no python{version} interpreter here: shipped without .pyc, so every cold start "
            f"compiles the sources; install python{version} and rebuild"
        )
        return "no .pyc (target interpreter missing)"
    progress(f"compiling .pyc with python{version}…")
    # unchecked-hash: the pyc never looks at the source's mtime, which unzipping changes.
    command = [interpreter, "-I", "-m", "compileall", "-q", "-j", "0"]
    command += ["--invalidation-mode", "unchecked-hash", "-s", str(stage), "-p", code_root]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [*command, str(stage)], capture_output=True, text=True, check=False, env=env
    )
    if done.returncode != 0:
        failed = (done.stdout + done.stderr).strip().splitlines()[-5:]
        warnings.append("some modules did not compile: " + " | ".join(failed))
    tag = f"cpython-{version.replace('.', '')}"
    return f"__pycache__/*.{tag}.pyc (unchecked-hash) beside the sources"


def write_zip(stage: Path, zip_path: Path) -> tuple[int, int]:
    files = sorted(p for p in stage.rglob("*") if p.is_file())
    unzipped = 0
    partial = zip_path.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(stage).as_posix(), date_time=_EPOCH)
            executable = os.access(path, os.X_OK) and path.suffix not in {".py", ".pyc"}
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.create_system = 3  # unix, so the mode bits above are honoured
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unzipped += len(data)
            archive.writestr(info, data)
    partial.replace(zip_path)
    return len(files), unzipped
