"""Fill the staging folder: sff itself (the running copy), the dependencies for the target's
Linux and Python through pip, and the project's own modules."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sff import distribution
from sff.packaging._local import NEVER_SHIPPED, LocalImportError, top_levels
from sff.packaging._targets import PIP_PLATFORM, Arch


class PackagingError(Exception):
    """A package could not be built; the message says what to change."""


class UnshippedModule(PackagingError):
    """A function imports a project module the package would not contain: the project is
    wrong (exit 1), not the command line."""


def pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    return tomllib.loads(path.read_text("utf-8")) if path.is_file() else {}


def sff_min_python() -> tuple[int, ...]:
    source = distribution.checkout()
    if source is not None:
        project = pyproject(source)["project"]
        match = re.search(r">=\s*(\d+(?:\.\d+)*)", str(project.get("requires-python", "")))
        if match:
            return tuple(int(part) for part in match.group(1).split("."))
    return (3, 0)


def project_requirements(root: Path) -> list[str]:
    """The project's own runtime dependencies; sff itself comes from the running copy."""
    deps = pyproject(root).get("project", {}).get("dependencies", [])
    own = distribution.canonical(distribution.NAME)
    return [str(d) for d in deps if _requirement_name(str(d)) != own]


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return distribution.canonical(match.group(1)) if match else ""


def sff_metadata() -> str:
    """Core metadata of the running sff: from its pyproject.toml when run from a checkout,
    else from the installed distribution."""
    source = distribution.checkout()
    if source is None:
        from importlib.metadata import distribution as installed

        fallback = f"Metadata-Version: 2.1\nName: {distribution.NAME}\n"
        return installed(distribution.NAME).read_text("METADATA") or fallback
    project = pyproject(source)["project"]
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Requires-Python: {project.get('requires-python', '')}",
        *(f"Requires-Dist: {dep}" for dep in project.get("dependencies", [])),
    ]
    return "\n".join(lines) + "\n"


def stage_sff(stage: Path, progress: Callable[[str], None]) -> list[str]:
    """Copy the running sff into the stage, so the package holds exactly this code, and
    return its runtime requirements for pip. (Building a wheel first would cost a
    build-isolation environment per package for the same files.)"""
    progress("staging sff…")
    package = Path(__file__).resolve().parents[1]
    shutil.copytree(package, stage / "sff", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    metadata = sff_metadata()
    fields = dict(
        line.split(": ", 1) for line in metadata.splitlines() if ": " in line and line[0] != " "
    )
    # The wheel spelling of the name (PEP 427), so importlib.metadata finds it.
    folder = re.sub(r"[-_.]+", "_", fields.get("Name", distribution.NAME))
    dist_info = stage / f"{folder}-{fields.get('Version', '0')}.dist-info"
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


def pip_install(requirements: Sequence[str], stage: Path, *, arch: Arch, python: str) -> None:
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


def project_modules(root: Path, modules: Iterable[str], out_dir: Path) -> list[str]:
    """The top-level modules and packages of the project to ship (see `_local`)."""
    include = pyproject(root).get("tool", {}).get("sff", {}).get("include", [])
    if not isinstance(include, list) or not all(isinstance(i, str) for i in include):
        raise PackagingError("[tool.sff] include must be a list of module or package names")
    try:
        return top_levels(root, modules, include=include, out_dir=out_dir)
    except LocalImportError as exc:
        raise UnshippedModule(str(exc)) from None


def copy_project(root: Path, stage: Path, names: Iterable[str]) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*", *NEVER_SHIPPED)
    for name in names:
        if (root / name).is_dir():
            shutil.copytree(root / name, stage / name, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copyfile(root / f"{name}.py", stage / f"{name}.py")
