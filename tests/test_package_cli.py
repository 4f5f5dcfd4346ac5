"""`sff package`: which functions, which handler strings and env vars reach the builder."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sff.cli import main
from sff.packaging.cli import packaged
from sff.project import load_project

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    modules, path = dict(sys.modules), list(sys.path)
    monkeypatch.chdir(ROOT)
    yield
    for name in set(sys.modules) - set(modules):
        del sys.modules[name]
    sys.path[:] = path


def test_packaged_function_carries_handler_string_route_and_backend_env() -> None:
    project = load_project(ROOT)
    found = project.get("dashboard")
    assert found is not None
    fn = packaged(project, found, memory_mb=512)
    assert fn.handler == "functions.dashboard.handler"
    assert set(fn.env) == {"USERS_API", "TODOS_API"}
    assert (fn.method, fn.route, fn.memory_mb) == ("GET", "/dashboard", 512)
    assert fn.timeout_s == found.function.timeout


def test_package_without_names_or_all_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["package", "--target", "aws-lambda"]) == 2
    assert "name the functions to package, or pass --all" in capsys.readouterr().err


def test_package_of_an_unknown_function_lists_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["package", "nope", "--target", "gcp"]) == 2
    err = capsys.readouterr().err
    assert "no function 'nope'" in err and "dashboard" in err


def test_package_names_a_function_without_module_level_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "__init__.py").write_text("")
    (tmp_path / "functions" / "bare.py").write_text(
        "from sff import Backend, Function\n"
        "api = Backend('api', default='http://127.0.0.1:9')\n"
        "bare = Function('bare', sources={'x': api.get('/x')})\n"
    )
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    monkeypatch.chdir(tmp_path)
    assert main(["package", "bare", "--target", "aws-lambda", "--out", str(tmp_path)]) == 2
    assert "add `handler = bare.handler`" in capsys.readouterr().err


def test_cors_origins_come_from_the_environment_or_the_functions_own_configure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sff.adapters import _settings
    from sff.packaging.cli import cors_origins

    monkeypatch.delenv("SFF_CORS_ORIGINS", raising=False)
    assert cors_origins() == ()
    monkeypatch.setenv("SFF_CORS_ORIGINS", "https://b.example,https://a.example")
    assert cors_origins() == ("https://a.example", "https://b.example")
    _settings.configure(cors_origins=["*"])  # as a function module may do at import
    try:
        assert cors_origins() == ("*",)
    finally:
        _settings.reset()


def test_tool_sff_env_adds_required_and_defaulted_variables(tmp_path: Path) -> None:
    from sff.cli import UsageError
    from sff.packaging.cli import declared_env

    (tmp_path / "pyproject.toml").write_text('[tool.sff]\nenv = ["MAIL_KEY", "REGION=eu-west-1"]\n')
    assert declared_env(tmp_path) == {"MAIL_KEY": "", "REGION": "eu-west-1"}
    (tmp_path / "pyproject.toml").write_text('[tool.sff]\nenv = ["not a name"]\n')
    with pytest.raises(UsageError, match="no variable name"):
        declared_env(tmp_path)


def test_packaged_function_carries_the_declared_extra_variables() -> None:
    project = load_project(ROOT)
    found = project.get("send_digest")
    assert found is not None
    fn = packaged(project, found, memory_mb=256, extra={"MAIL_KEY": ""})
    assert fn.env["MAIL_KEY"] == ""
