"""The pytest plugin: `backends` and `sff_invoke` fixtures, recorded cases collected from
``tests/cases/**/*.json``, and the degradation matrix when a conftest turns it on."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # respx and friends load only when a test asks for them
    from sff.testing.mock import MockBackends
    from sff.testing.services import MockServices

CALL_FAILED = pytest.StashKey[bool]()
UPDATE_OPTION = "--sff-update-cases"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sff")
    group.addoption(
        UPDATE_OPTION,
        action="store_true",
        default=False,
        help="rewrite the expected output of recorded sff cases from the current functions",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sff_case: a recorded sff contract case")
    config.addinivalue_line("markers", "sff_matrix: one cell of the sff degradation matrix")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture
def backends(request: pytest.FixtureRequest) -> Iterator[MockBackends]:
    """Mocked backends by name: ``backends.users.get("/users/1").respond(json={...})``.

    Functions imported into the test module (and any passed to `sff_invoke`) are pointed
    at the mocks; a request no route answers fails the test, naming method and URL.
    """
    from sff.testing.discover import functions_in
    from sff.testing.mock import MockBackends

    module = getattr(request, "module", None)
    mocks = MockBackends(functions_in(vars(module)) if module else [])
    with mocks:
        yield mocks
    _report(mocks, request.node)


def _report(mocks: MockBackends, item: pytest.Item) -> None:
    from sff.testing.mock import SffTestingWarning

    for name in mocks.unused():
        known = ", ".join(sorted(mocks.declared))
        warnings.warn(
            SffTestingWarning(
                f"backends.{name} is mocked, but no function under test uses a backend "
                f"named {name!r} (known: {known})"
            ),
            stacklevel=1,
        )
    if mocks.unmocked and not item.stash.get(CALL_FAILED, False):
        lines = "\n  ".join(mocks.unmocked)
        pytest.fail(f"requests no mocked backend answered:\n  {lines}", pytrace=False)


@pytest.fixture
def services(request: pytest.FixtureRequest) -> Iterator[MockServices]:
    """Mocked `call()` services by name: ``services.mailer.returns({...})``,
    ``services.mailer.raises(TimeoutError())``; ``services.mailer.calls`` holds the
    keyword arguments of every call."""
    from sff.testing.discover import functions_in
    from sff.testing.services import MockServices

    module = getattr(request, "module", None)
    with MockServices(functions_in(vars(module)) if module else []) as mocks:
        yield mocks


@pytest.fixture
def sff_invoke(backends: MockBackends) -> Callable[..., Any]:
    """``sff_invoke(fn, input, headers=...)`` -> the Result, or the SffError it raised."""
    from sff.testing.calling import invoke

    return invoke


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".json" and file_path.name != "conftest.py":
        return None
    from sff.testing.collect import collect_file

    return collect_file(file_path, parent)
