"""Test items pytest collects from sff files: one per recorded case file, one per cell of
the degradation matrix (under the conftest.py that called `degradation_matrix()`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sff.function import Function
from sff.testing.casefile import CaseFormatError, load_case
from sff.testing.matrix import (
    DegradationFailure,
    HappyData,
    MatrixOptions,
    NoHappyPath,
    check_degradation,
    happy_data,
    matrix_options,
    scenarios,
)
from sff.testing.replay import CaseFailure, find_function, replay_case

FUNCTIONS = pytest.StashKey[dict[str, Function]]()
BROKEN = pytest.StashKey[list[tuple[str, str]]]()


def collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".json" and _is_case_file(file_path):
        return CaseFile.from_parent(parent, path=file_path)
    if file_path.name == "conftest.py":
        options = matrix_options(file_path)
        if options is not None:
            return MatrixFile.from_parent(parent, path=file_path, options=options)
    return None


def _is_case_file(path: Path) -> bool:
    parents = path.parents
    return any(p.name == "cases" and p.parent.name == "tests" for p in parents)


def project_functions(config: pytest.Config) -> dict[str, Function]:
    """The project's functions that import, once per test session. A module that fails
    to import is one failing matrix test (`broken_modules`), never a broken collection."""
    if FUNCTIONS not in config.stash:
        from sff.project import load_project

        project = load_project(config.rootpath)
        config.stash[FUNCTIONS] = {found.name: found.function for found in project.functions}
        config.stash[BROKEN] = [_broken(project, error) for error in project.errors]
    return config.stash[FUNCTIONS]


def broken_modules(config: pytest.Config) -> list[tuple[str, str]]:
    """(module, what went wrong: file, line and error) of each module that did not import."""
    project_functions(config)
    return config.stash[BROKEN]


def _broken(project: Any, error: Any) -> tuple[str, str]:
    line = error.line
    where = project.relative(error.file) + (f":{line}" if line else "")
    exc = error.error
    if isinstance(exc, SyntaxError):
        text = (exc.text or "").rstrip("\n")
        caret = f"\n    {' ' * ((exc.offset or 1) - 1)}^" if exc.offset and text else ""
        why = f"SyntaxError: {exc.msg}" + (f"\n    {text}{caret}" if text else "")
    else:
        why = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    return error.module, f"{where} ({error.module}) failed to import:\n{why}"


class ImportFailure(Exception):
    """A functions module did not import: its functions cannot be checked."""


CLEAN_FAILURES = (CaseFailure, CaseFormatError, DegradationFailure, ImportFailure)


class SffItem(pytest.Item):
    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | Any:
        if isinstance(excinfo.value, CLEAN_FAILURES):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class CaseFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        yield CaseItem.from_parent(self, name="replay")


class CaseItem(SffItem):
    """Replays one recorded case: same requests, same output, still fits the contract."""

    def runtest(self) -> None:
        case = load_case(self.path)
        fn = find_function(case, project_functions(self.config))
        update = bool(self.config.getoption("--sff-update-cases"))
        replay = replay_case(case, fn, update=update)
        if replay.updated:
            self.user_properties.append(("sff_case_updated", str(self.path)))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"sff case {self.path.parent.name}/{self.path.stem}"


class MatrixFile(pytest.File):
    def __init__(self, *, options: MatrixOptions, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.options = options
        self.data: dict[str, HappyData] = {}  # per function, shared by its cells

    def happy_data(self, fn: Function) -> HappyData:
        if fn.name not in self.data:
            cases = self.options.cases or self.config.rootpath / "tests" / "cases"
            self.data[fn.name] = happy_data(fn, cases)
        return self.data[fn.name]

    def collect(self) -> Iterator[pytest.Item]:
        functions = self.options.functions
        if functions is None:
            functions = tuple(project_functions(self.config).values())
            for module, problem in broken_modules(self.config):
                yield BrokenItem.from_parent(self, name=f"import[{module}]", problem=problem)
        for fn in functions:
            if fn.name in self.options.exclude:
                continue
            for cell in scenarios(fn):
                yield MatrixItem.from_parent(
                    self,
                    name=f"degradation[{fn.name}:{cell.label}]",
                    fn=fn,
                    failing=cell.failing,
                    status=cell.status,
                )


class MatrixItem(SffItem):
    """One cell: these sources fail, the rest answer happy-path data."""

    def __init__(
        self, *, fn: Function, failing: tuple[str, ...], status: int = 503, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.fn, self.failing, self.status = fn, failing, status
        self.add_marker(pytest.mark.sff_matrix)

    def runtest(self) -> None:
        parent = self.parent
        assert isinstance(parent, MatrixFile)
        try:
            data = parent.happy_data(self.fn)
            check_degradation(self.fn, self.failing, data, status=self.status)
        except NoHappyPath as exc:
            pytest.skip(str(exc))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


class BrokenItem(SffItem):
    """A module of the functions package that fails to import: one failing test."""

    def __init__(self, *, problem: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problem = problem

    def runtest(self) -> None:
        raise ImportFailure(self.problem)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name
