"""Two functions on the same method and route are a project error wherever the project is
loaded (sff check, sff list, sff serve, sff package) and in the ASGI app, naming both
functions and their files; different methods on one route are fine."""

from __future__ import annotations

from pathlib import Path

import pytest

from sff import Function
from sff.adapters.asgi import app
from sff.cli import main
from tests.test_cli import make_project
from tests.test_serve_support import running_gateway

ALPHA = 'from sff import Function\nalpha = Function("alpha", route="/same", shape="`1`")\n'
BETA = 'from sff import Function\nbeta = Function("beta", route="/same/", shape="`2`")\n'
GAMMA = (
    'from sff import Function\n'
    'gamma = Function("gamma", route="/same", method="POST", shape="`3`")\n'
)


@pytest.fixture
def clash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_project(tmp_path / "clash", {"a": ALPHA, "b": BETA, "c": GAMMA})
    monkeypatch.chdir(root)
    return root


def names_both(text: str) -> bool:
    return all(part in text for part in ("GET /same", "alpha", "functions/a.py", "beta",
                                         "functions/b.py"))  # fmt: skip


@pytest.mark.parametrize(
    "command", [["check"], ["list"], ["package", "--all", "--target", "aws-lambda"]]
)
def test_a_command_refuses_two_functions_on_one_route(
    clash: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command) != 0

    captured = capsys.readouterr()
    assert names_both(captured.out + captured.err), captured


def test_sff_serve_refuses_two_functions_on_one_route(clash: Path, tmp_path: Path) -> None:
    with pytest.raises(AssertionError) as exited, running_gateway(clash, tmp_path):
        pass

    assert names_both(str(exited.value)), exited.value


FIRST = Function("first", route="/t/{a}", shape="`1`")
SECOND = Function("second", route="/t/{b}/", shape="`2`")


def test_the_asgi_app_refuses_two_functions_on_one_route() -> None:
    with pytest.raises(ValueError) as refused:
        app(FIRST, SECOND)

    message = str(refused.value)
    assert "two functions answer GET /t/{b}/" in message
    assert "first (" in message and "second (" in message and "test_project_routes.py" in message


def test_one_route_with_two_methods_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(make_project(tmp_path / "ok", {"a": ALPHA, "c": GAMMA}))
    assert main(["check"]) == 0
