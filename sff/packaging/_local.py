"""Which of the project's own modules a package must ship: the imports of the function
modules, followed through every local module they reach.

Granularity is the top-level name: importing ``services.pricing`` ships all of
``services/`` (minus its tests), so a module that package loads by itself at run time
(``importlib.import_module``, a sibling imported relatively) is there too. Following the
imports, rather than shipping every folder of the project, keeps benchmarks, scripts and
demos out of the zip. A name imported only dynamically from a function module goes in
``[tool.sff] include = [...]``.

An import that resolves to a project file that is never shipped (``tests/``, a hidden or
virtualenv folder, the output folder) is a `LocalImportError` naming the module and the
importing file and line: it would be a ``ModuleNotFoundError`` at the first cold start.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Folders whose modules never ship, at any depth: tests are stripped from every package.
NEVER_SHIPPED = frozenset({"tests", "test"})
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "dist", "build"})


class LocalImportError(Exception):
    """A function module imports a project module the package does not contain."""


@dataclass(frozen=True)
class Import:
    module: str  # absolute dotted name
    file: Path  # the importing file
    line: int


def top_levels(
    root: Path,
    modules: Iterable[str],
    *,
    include: Iterable[str] = (),
    out_dir: Path | None = None,
    provided: Iterable[str] = ("sff",),
) -> list[str]:
    """The project's top-level packages and modules to ship, sorted: those holding
    ``modules`` (the function modules), ``include``, and every local one they import.
    ``provided`` names are staged by the packager itself (sff from the running copy)."""
    root = root.resolve()
    given = set(provided)
    wanted = {m.split(".")[0] for m in (*modules, *include)}
    for name in sorted(wanted):
        if _locate(root, name) is None:
            raise LocalImportError(f"{name!r} is not a module or package in {root}")
    shipped: set[str] = set()
    pending = sorted(wanted)
    while pending:
        name = pending.pop()
        if name in shipped:
            continue
        shipped.add(name)
        for found in _imports_of(root, name):
            top = found.module.split(".")[0]
            if top in given or _locate(root, top) is None:
                continue  # staged by the packager, the stdlib or an installed dependency
            _check_shippable(root, found, out_dir)
            if top not in shipped:
                pending.append(top)
    return sorted(shipped)


def _locate(root: Path, top: str) -> Path | None:
    """The file or folder a top-level name imports from in the project, if any."""
    if not top.isidentifier():
        return None
    module = root / f"{top}.py"
    if module.is_file():
        return module
    folder = root / top
    if folder.is_dir() and any(folder.rglob("*.py")):
        return folder
    return None


def _check_shippable(root: Path, found: Import, out_dir: Path | None) -> None:
    path = _resolve(root, found.module)
    if path is None:
        return  # not a module file of ours (a name in a package's namespace, say)
    parts = path.relative_to(root).parts
    excluded = next((p for p in parts if p in NEVER_SHIPPED or _hidden_or_tool(root, p)), None)
    inside_out = out_dir is not None and path.resolve().is_relative_to(out_dir.resolve())
    if excluded or inside_out:
        where = found.file.relative_to(root) if found.file.is_relative_to(root) else found.file
        reason = f"{excluded}/ is never shipped" if excluded else "it lives in the output folder"
        raise LocalImportError(
            f"{where}:{found.line} imports {found.module}, a local module `sff package` does "
            f"not ship ({reason}); move it into a package the functions may import"
        )


def _hidden_or_tool(root: Path, part: str) -> bool:
    return part.startswith(".") or part in _SKIPPED_DIRS or (root / part / "pyvenv.cfg").is_file()


def _resolve(root: Path, module: str) -> Path | None:
    """The deepest project file or package folder a dotted name points at."""
    here = root
    found: Path | None = None
    for part in module.split("."):
        if (here / f"{part}.py").is_file():
            return here / f"{part}.py"
        if not (here / part).is_dir():
            return found
        here = found = here / part
    return found


def source_files(path: Path) -> Iterator[Path]:
    """The .py files a shipped top-level module or package contributes (tests excluded)."""
    if path.is_file():
        yield path
        return
    for file in sorted(path.rglob("*.py")):
        relative = file.relative_to(path).parts[:-1]
        if not any(p in NEVER_SHIPPED or p in _SKIPPED_DIRS or p.startswith(".") for p in relative):
            yield file


def _imports_of(root: Path, top: str) -> Iterator[Import]:
    path = _locate(root, top)
    if path is None:
        return
    for file in source_files(path):
        package = _package_of(root, file)
        try:
            tree = ast.parse(file.read_bytes(), filename=str(file))
        except SyntaxError:
            continue  # `sff check` names it; the build compiles what it can
        for node in ast.walk(tree):
            yield from _node_imports(node, package, file)


def _package_of(root: Path, file: Path) -> list[str]:
    return list(file.relative_to(root).with_suffix("").parts[:-1])


def _node_imports(node: ast.AST, package: list[str], file: Path) -> Iterator[Import]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield Import(alias.name, file, node.lineno)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = package[: len(package) - node.level + 1] if node.level <= len(package) else []
            if not base:
                return
            prefix = ".".join(base)
        else:
            prefix = ""
        module = ".".join(p for p in (prefix, node.module or "") if p)
        yield Import(module, file, node.lineno)
        for alias in node.names:  # `from services import pricing` may name a submodule
            if alias.name != "*":
                yield Import(f"{module}.{alias.name}", file, node.lineno)
