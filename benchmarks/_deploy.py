"""Deploy-like venvs: only what a deployed handler ships, built by the benchmark, cached.

Cold start and memory measured in the test venv are not what a platform sees: that venv
holds pytest, respx, httpx's CLI (click, rich, pygments), trio and editable-install .pth
files, and every one of them makes imports slower (~140 ms on a 2-core machine). Each
*kind* here is a fresh venv (no pip, no system site-packages) holding exactly one
handler's runtime distributions, at the versions installed in the running venv,
installed with ``pip install --no-deps --target``, and a *task root* with the benchmark
app modules (where a platform unpacks the function code). sff goes in the way
``sff package`` ships it: the running copy of the package plus its metadata
(`sff.packaging._stage.stage_sff`). Everything is compiled to .pyc, as a package is.

Venvs live under ``build/benchmarks/`` (ignored by git), named by a hash of what went
in: the same sources and versions reuse the venv; a change builds a new one.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import io
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from benchmarks._backend import ROOT

BUILD = ROOT / "build" / "benchmarks"
APP_FILES = [
    "benchmarks/__init__.py",
    "benchmarks/apps/__init__.py",
    "benchmarks/apps/_peak.py",
    "benchmarks/apps/rss.py",
    "benchmarks/apps/page_sff.py",
    "benchmarks/apps/page_hand.py",
    "benchmarks/apps/page_aiohttp.py",
    "benchmarks/apps/page_floor.py",
    "benchmarks/apps/each_sff.py",
    "benchmarks/apps/large_app.py",
]
KINDS: dict[str, tuple[str, ...]] = {
    # the distributions each deployed handler imports; their dependencies come along
    "sff": ("serverless-for-frontend",),
    "sff-otel": (
        "serverless-for-frontend",
        "opentelemetry-sdk",
        "opentelemetry-exporter-otlp-proto-http",
    ),
    "hand": ("httpx", "jmespath", "pydantic", "aiohttp"),
    # the hand-written large-response handlers (`apps.large_app`): httpx and their parsers
    "hand-large": ("httpx", "jmespath", "pydantic", "orjson", "msgspec"),
    # sff on its hand-written HTTP/1.1 wire, before issue 10 moved it onto httptools: the
    # cold-start budget of that change (+15 ms at most) is measured against it
    "sff-before-wire": ("httpx", "pydantic", "jmespath", "tenacity", "sniffio"),
}
BEFORE_WIRE = "c8e12bc"  # the last commit with sff/_lean.py, sff/_transport.py, sff/_pool.py


@dataclass(frozen=True)
class Deploy:
    """A built deploy-like venv: run ``python`` with ``cwd=task`` and ``PYTHONPATH=task``."""

    python: Path
    task: Path


def closure(roots: tuple[str, ...]) -> list[tuple[str, str]]:
    """Every distribution ``roots`` need at run time (no extras), with the version the
    running venv holds, sorted by name. sff itself is left to `stage_sff`."""
    seen: dict[str, str] = {}
    todo = list(roots)
    while todo:
        name = _canonical(todo.pop())
        if name in seen:
            continue
        dist = md.distribution(name)
        seen[name] = dist.version
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return sorted(seen.items())


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _fingerprint(kind: str, dists: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256(f"{sys.version}\n{kind}\n{dists}\n".encode())
    files = [ROOT / f for f in APP_FILES]
    if any(name == "serverless-for-frontend" for name, _ in dists):
        files += [*sorted((ROOT / "sff").rglob("*.py")), ROOT / "pyproject.toml"]
    if kind == "sff-before-wire":
        digest.update(BEFORE_WIRE.encode())
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def deploy(kind: str) -> Deploy:
    """The deploy-like venv of ``kind`` (see `KINDS`), built on first use."""
    dists = closure(KINDS[kind])
    home = BUILD / f"venv-{kind}-{_fingerprint(kind, dists)}"
    built = Deploy(home / "bin" / "python", home / "task")
    if (home / ".ready").is_file():
        return built
    for stale in BUILD.glob(f"venv-{kind}-{'?' * len(home.name.rsplit('-', 1)[1])}"):
        # only this kind's older builds: `venv-sff-*` would also match venv-sff-otel-...
        shutil.rmtree(stale, ignore_errors=True)
    print(f"  building the deploy-like venv {home.name} ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    site = _site_packages(built.python)
    others = [f"{name}=={version}" for name, version in dists if name != "serverless-for-frontend"]
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    pip += ["--no-deps", "--no-compile", "--only-binary=:all:", "--target", str(site)]
    done = subprocess.run([*pip, *others], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pip could not build {home.name}:\n{done.stderr[-3000:]}")
    if len(others) < len(dists):
        from sff.packaging._stage import stage_sff  # exactly what `sff package` ships

        stage_sff(site, lambda _: None)
    if kind == "sff-before-wire":
        _stage_commit(BEFORE_WIRE, site)
    for name in APP_FILES:
        (built.task / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, built.task / name)
    for tree in (site, built.task):  # the venv's own interpreter compiles: its magic number
        subprocess.run(
            [str(built.python), "-m", "compileall", "-q", "-j", "0", str(tree)], check=True
        )
    (home / ".ready").write_text("\n".join(f"{n}=={v}" for n, v in dists) + "\n")
    return built


def _stage_commit(commit: str, site: Path) -> None:
    """The ``sff`` package as it was at ``commit`` (from git), as `stage_sff` ships it."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "sff"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(site, filter="data")
    info = site / "serverless_for_frontend-0.1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: serverless-for-frontend\nVersion: 0.1.0\n"
    )


def _site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())
