"""Project discovery: find the root, read ``[tool.sff]``, import the functions package.

A project is the current directory or the nearest parent holding a ``pyproject.toml`` or a
``functions/`` folder. Every module of the functions package is imported and every
`Function` found at module level is collected. A module that fails to import is reported
as a `LoadError` (file, exception), so one broken module never hides the others.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from sff.function import Function

DEFAULT_PACKAGE = "functions"
_NOT_SHADOWED = frozenset({"tests", "test", "conftest"})  # the running test session's own


class ProjectError(Exception):
    """The project cannot be discovered or loaded at all (a user error, not a bug)."""


class DuplicateNameError(ProjectError):
    """Two different functions share a name: routes and `invoke` could not tell them apart."""


class DuplicateRouteError(ProjectError):
    """Two functions answer the same method and route: a router would silently pick one."""


@dataclass(frozen=True)
class Found:
    """One function: its name, the module and attribute it lives under, and the object."""

    name: str
    module: str
    attribute: str
    function: Function
    file: Path | None


@dataclass(frozen=True)
class LoadError:
    """A module that could not be imported: where, and why."""

    module: str
    file: Path | None
    error: BaseException

    @property
    def line(self) -> int | None:
        """The line of the module's own code where the import failed, when it is known."""
        return error_line(self.error, self.file)


@dataclass
class Project:
    root: Path
    package: str
    functions: list[Found] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)

    def get(self, name: str) -> Found | None:
        return next((f for f in self.functions if f.name == name), None)

    def relative(self, path: Path | None) -> str:
        if path is None:
            return "?"
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def find_root(start: Path | None = None) -> Path:
    """The start directory or its nearest parent with a pyproject.toml or functions/."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() or (folder / DEFAULT_PACKAGE).is_dir():
            return folder
    raise ProjectError(
        f"no sff project here: no pyproject.toml or functions/ in {here} or its parents "
        "(create one with `sff new NAME`)"
    )


def read_settings(root: Path) -> dict[str, Any]:
    """``[tool.sff]`` of the root's pyproject.toml (empty without one)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: not valid TOML: {exc}") from None
    settings = data.get("tool", {}).get("sff", {})
    if not isinstance(settings, dict):
        raise ProjectError(f"{path}: [tool.sff] must be a table")
    return settings


def load_project(start: Path | None = None) -> Project:
    """Discover the project and import its functions package."""
    root = find_root(start)
    package = read_settings(root).get("functions", DEFAULT_PACKAGE)
    if not isinstance(package, str) or not all(p.isidentifier() for p in package.split(".")):
        raise ProjectError(f"[tool.sff] functions must be a package name, got {package!r}")
    project = Project(root, package)
    _activate(root)
    try:
        pkg = importlib.import_module(package)
    except ModuleNotFoundError as exc:
        if exc.name and package.startswith(exc.name):
            raise ProjectError(
                f"no package {package!r} in {root} (see [tool.sff] functions)"
            ) from None
        project.errors.append(LoadError(package, _package_file(root, package), exc))
        return project
    except Exception as exc:
        project.errors.append(LoadError(package, _package_file(root, package), exc))
        return project
    _collect(project, [pkg, *_submodules(pkg, project)])
    return project


def _activate(root: Path) -> None:
    """Put the root first on sys.path and forget modules another project left behind under
    the same top-level names (``functions``, ``contracts``), so they are imported from here."""
    text = str(root)
    if text in sys.path:
        sys.path.remove(text)
    sys.path.insert(0, text)
    importlib.invalidate_caches()
    local = {p.stem if p.suffix == ".py" else p.name for p in root.iterdir()} - _NOT_SHADOWED
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in local and not _is_under(module, root):
            del sys.modules[name]


def _is_under(module: ModuleType | None, root: Path) -> bool:
    location = getattr(module, "__file__", None)
    if location is None:  # a namespace package or a builtin: look at its search path
        paths = list(getattr(module, "__path__", []))
        return bool(paths) and all(Path(p).resolve().is_relative_to(root) for p in paths)
    return Path(location).resolve().is_relative_to(root)


def _package_file(root: Path, package: str) -> Path:
    return root.joinpath(*package.split(".")) / "__init__.py"


def _submodules(pkg: ModuleType, project: Project) -> list[ModuleType]:
    modules: list[ModuleType] = []
    for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg.__name__ + "."):
        try:
            modules.append(importlib.import_module(info.name))
        except Exception as exc:
            project.errors.append(LoadError(info.name, _module_file(info), exc))
    return modules


def _module_file(info: pkgutil.ModuleInfo) -> Path | None:
    base = Path(getattr(info.module_finder, "path", "")) / info.name.rsplit(".", 1)[-1]
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _collect(project: Project, modules: list[ModuleType]) -> None:
    """Every module-level Function once. The same object imported into another module (to
    compose it) is one function; two objects sharing a name are an error."""
    seen: dict[int, Found] = {}
    for module in modules:
        for attribute, value in vars(module).items():
            if not isinstance(value, Function):
                continue
            file = Path(module.__file__) if module.__file__ else None
            found = Found(value.name, module.__name__, attribute, value, file)
            previous = seen.get(id(value))
            if previous is None or (attribute == value.name != previous.attribute):
                seen[id(value)] = found
    by_name: dict[str, Found] = {}
    for found in seen.values():
        other = by_name.get(found.name)
        if other is not None:
            raise DuplicateNameError(
                f"two functions are named {found.name!r}: {other.module}.{other.attribute} "
                f"and {found.module}.{found.attribute}; function names must be unique"
            )
        by_name[found.name] = found
    project.functions = sorted(by_name.values(), key=lambda f: f.name)
    _unique_routes(project)


def _unique_routes(project: Project) -> None:
    from sff.routes import clashes

    entries = [
        (f.function.method, f.function.route, f"{f.name} ({project.relative(f.file)})")
        for f in project.functions
    ]
    found = clashes(entries)
    if found:
        lines = [f"two functions answer {route}: {a} and {b}" for route, a, b in found]
        raise DuplicateRouteError("; ".join(lines) + "; give one of them another route or method")


def error_line(error: BaseException, file: Path | None) -> int | None:
    """The last traceback line inside ``file`` (where the module's own code failed)."""
    if isinstance(error, SyntaxError) and error.lineno is not None:
        return error.lineno
    location = getattr(error, "location", None)
    if location is not None and file is not None and Path(location[0]) == file:
        return int(location[1])  # the offending entry inside a `Function(...)` call
    line = None
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        if file is not None and Path(tb.tb_frame.f_code.co_filename) == file:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
