"""Stage, install, compile, strip and zip one deployable package for a FaaS platform."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from sff.packaging._infra import PackagedFunction, gcp_main, s_yaml, sam_template
from sff.packaging._report import PackageReport
from sff.packaging._targets import PIP_PLATFORM, TARGETS, Arch, Target, TargetName

PycMode = Literal["pycache", "off"]

# Fixed zip timestamps make two builds of the same inputs byte-identical.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_PROJECT_PACKAGES = ("functions", "contracts")
_STRIP_DIRS = {"__pycache__"}
_STRIP_NESTED_DIRS = {"tests", "test"}
_STRIP_SUFFIXES = (".pyc", ".pyo", ".pyi")
# pip bookkeeping: RECORD lists files we strip, direct_url.json names a local temp path.
_STRIP_DIST_INFO = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


class PackagingError(Exception):
    """A package could not be built; the message says what to change."""


def _silent(_: str) -> None:
    return None


def build_package(
    root: str | os.PathLike[str],
    functions: Sequence[PackagedFunction],
    *,
    target: TargetName,
    arch: Arch = "x86_64",
    python: str | None = None,
    out_dir: str | os.PathLike[str],
    progress: Callable[[str], None] = _silent,
    name: str | None = None,
    region: str = "cn-hangzhou",
    pyc: PycMode = "pycache",
) -> PackageReport:
    """Build `<name>-<target>-<arch>.zip` in `out_dir` holding the project's `functions/`
    and `contracts/`, sff and its dependencies for the target's Linux, plus the platform's
    infrastructure file (SAM `template.yaml`, Serverless Devs `s.yaml`, or a `main.py`
    inside the zip for Google Cloud Functions). One zip serves every function."""
    started = time.monotonic()
    project_root = Path(root).resolve()
    spec = _target(target, arch)
    version = _python_version(spec, python)
    if not functions:
        raise PackagingError("no functions to package")
    project = _project_name(project_root, name)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / f"{project}-{target}-{arch}.zip"
    warnings: list[str] = []

    with tempfile.TemporaryDirectory(prefix="sff-package-") as tmp:
        stage = Path(tmp) / "stage"
        stage.mkdir()
        requirements = _stage_sff(stage, progress)
        requirements += _project_requirements(project_root)
        progress(
            f"installing {len(requirements)} requirement(s) for {PIP_PLATFORM[arch]}, "
            f"cp{version.replace('.', '')}…"
        )
        _pip_install(requirements, stage, arch=arch, python=version)
        _copy_project(project_root, stage)
        _check_handlers(stage, functions)
        if target == "gcp":
            (stage / "main.py").write_text(gcp_main(functions), encoding="utf-8")
            (stage / "requirements.txt").write_text("functions-framework\n", encoding="utf-8")
        _strip(stage)
        pyc_note = _compile(stage, version, pyc, progress, warnings)
        progress(f"zipping {zip_path.name}…")
        files, unzipped = _zip(stage, zip_path)

    infra = _write_infra(spec, functions, zip_path, project, version, arch, region)
    report = PackageReport(
        target=target,
        arch=arch,
        python=version,
        zip_path=zip_path,
        infra_files=tuple(infra),
        functions=tuple(functions),
        file_count=files,
        zipped_bytes=zip_path.stat().st_size,
        unzipped_bytes=unzipped,
        limits=spec.limits,
        pyc=pyc_note,
        warnings=tuple(warnings),
        elapsed_s=time.monotonic() - started,
    )
    progress(report.size_line())
    return report


def _target(target: str, arch: str) -> Target:
    if target not in TARGETS:
        raise PackagingError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    spec = TARGETS[target]
    if arch not in spec.archs:
        raise PackagingError(f"{target} runs Python on {', '.join(spec.archs)} only, not {arch!r}")
    return spec


def _python_version(spec: Target, python: str | None) -> str:
    version = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    origin = "requested" if python else "running interpreter's"
    if version not in spec.pythons:
        raise PackagingError(
            f"{spec.name} has no python{version} runtime (the {origin} version); "
            f"supported: {', '.join(spec.pythons)} — pass python=... / --python"
        )
    minimum = _sff_min_python()
    if _version_tuple(version) < minimum:
        raise PackagingError(
            f"sff needs Python >= {'.'.join(map(str, minimum))}, not {version} "
            f"(the {origin} version)"
        )
    return version


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _sff_min_python() -> tuple[int, ...]:
    source = _sff_source()
    if source is not None:
        project = tomllib.loads((source / "pyproject.toml").read_text("utf-8"))["project"]
        match = re.search(r">=\s*(\d+(?:\.\d+)*)", str(project.get("requires-python", "")))
        if match:
            return _version_tuple(match.group(1))
    return (3, 0)


def _project_name(root: Path, name: str | None) -> str:
    if name:
        return name
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        declared = tomllib.loads(pyproject.read_text("utf-8")).get("project", {}).get("name")
        if isinstance(declared, str) and declared:
            return declared
    return root.name


def _canonical(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def _project_requirements(root: Path) -> list[str]:
    """The project's own runtime dependencies; sff itself comes from the local source."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return []
    deps = tomllib.loads(pyproject.read_text("utf-8")).get("project", {}).get("dependencies", [])
    return [str(d) for d in deps if _canonical(str(d)) != "sff"]


def _sff_source() -> Path | None:
    checkout = Path(__file__).resolve().parents[2]
    pyproject = checkout / "pyproject.toml"
    if pyproject.is_file():
        declared = tomllib.loads(pyproject.read_text("utf-8")).get("project", {}).get("name")
        if declared == "sff":
            return checkout
    return None


def _sff_metadata() -> str:
    """Core metadata of the running sff: from its pyproject.toml when run from a checkout,
    else from the installed distribution."""
    source = _sff_source()
    if source is None:
        from importlib.metadata import distribution

        return distribution("sff").read_text("METADATA") or "Metadata-Version: 2.1\nName: sff\n"
    project = tomllib.loads((source / "pyproject.toml").read_text("utf-8"))["project"]
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Requires-Python: {project.get('requires-python', '')}",
        *(f"Requires-Dist: {dep}" for dep in project.get("dependencies", [])),
    ]
    return "\n".join(lines) + "\n"


def _stage_sff(stage: Path, progress: Callable[[str], None]) -> list[str]:
    """Copy the running sff into the stage, so the package holds exactly this code, and
    return its runtime requirements for pip. (Building a wheel first would cost a
    build-isolation environment per package for the same files.)"""
    progress("staging sff…")
    package = Path(__file__).resolve().parents[1]
    shutil.copytree(package, stage / "sff", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    metadata = _sff_metadata()
    fields = dict(
        line.split(": ", 1) for line in metadata.splitlines() if ": " in line and line[0] != " "
    )
    dist_info = stage / f"sff-{fields.get('Version', '0')}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(metadata, "utf-8")
    return [
        line.split(": ", 1)[1]
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ") and "extra ==" not in line
    ]


def _pip(args: Sequence[str]) -> None:
    command = [sys.executable, "-m", "pip", *args, "-q", "--disable-pip-version-check"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise PackagingError(f"pip {args[0]} failed ({done.returncode}):\n{tail}")


def _pip_install(requirements: Sequence[str], stage: Path, *, arch: Arch, python: str) -> None:
    _pip(
        [
            "install",
            "--target",
            str(stage),
            "--platform",
            PIP_PLATFORM[arch],
            "--implementation",
            "cp",
            "--python-version",
            python,
            "--only-binary=:all:",
            "--no-compile",  # compiled below, for the target interpreter
            "--progress-bar",
            "off",
            *requirements,
        ]
    )


def _copy_project(root: Path, stage: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")
    for package in _PROJECT_PACKAGES:
        if (root / package).is_dir():
            shutil.copytree(root / package, stage / package, ignore=ignore, dirs_exist_ok=True)


def _check_handlers(stage: Path, functions: Sequence[PackagedFunction]) -> None:
    for fn in functions:
        path = stage.joinpath(*fn.module.split("."))
        if not (path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()):
            raise PackagingError(
                f"function {fn.name}: handler module {fn.module} is not in the package "
                f"(looked for {path.relative_to(stage)}.py)"
            )


def _strip(stage: Path) -> None:
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


def _compile(
    stage: Path, version: str, mode: PycMode, progress: Callable[[str], None], warnings: list[str]
) -> str:
    """Bytecode for the target interpreter, so a cold start does not compile (the platforms'
    code directories are read-only, so nothing compiled there is ever kept)."""
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
    done = subprocess.run(
        [
            interpreter,
            "-I",
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            str(stage),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        failed = (done.stdout + done.stderr).strip().splitlines()[-5:]
        warnings.append("some modules did not compile: " + " | ".join(failed))
    tag = f"cpython-{version.replace('.', '')}"
    return f"__pycache__/*.{tag}.pyc (unchecked-hash) beside the sources"


def _zip(stage: Path, zip_path: Path) -> tuple[int, int]:
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


def _write_infra(
    spec: Target,
    functions: Sequence[PackagedFunction],
    zip_path: Path,
    project: str,
    version: str,
    arch: Arch,
    region: str,
) -> list[Path]:
    if spec.name == "aws-lambda":
        path = zip_path.parent / "template.yaml"
        path.write_text(
            sam_template(functions, code_uri=zip_path.name, python=version, arch=arch), "utf-8"
        )
        return [path]
    if spec.name == "aliyun-fc":
        path = zip_path.parent / "s.yaml"
        path.write_text(
            s_yaml(
                functions, project=project, code=f"./{zip_path.name}", python=version, region=region
            ),
            "utf-8",
        )
        return [path]
    return []
