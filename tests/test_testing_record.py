"""`sff record` keeps only what should be replayed: against a real loopback backend, a
failed or degraded run, a missing required input and an overwrite are refused."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sff.cli import main

FUNCTIONS = """
from pydantic import BaseModel
from sff import Backend, Fallback, Function

users = Backend("users", env="REC_USERS_API")

class Query(BaseModel):
    user_id: int

profile = Function(
    "profile",
    input=Query,
    sources={
        "user": users.get("/users/{input.user_id}"),
        "team": users.get("/teams/{user.team_id}", fallback=Fallback.omit()),
    },
    shape={"name": "user.name", "team": "team.name"},
)
"""

DATA: dict[str, object] = {}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = self.path in DATA
        body = json.dumps(DATA.get(self.path, {"error": "not found"})).encode()
        self.send_response(200 if found else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def backend() -> Iterator[str]:
    DATA.clear()
    DATA.update({"/users/1": {"name": "Ada", "team_id": 3}, "/teams/3": {"name": "Core"}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "__init__.py").write_text("")
    (tmp_path / "functions" / "profile.py").write_text(FUNCTIONS)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REC_USERS_API", raising=False)
    yield tmp_path
    for name in [m for m in sys.modules if m.split(".")[0] == "functions"]:
        del sys.modules[name]


CASE = Path("tests/cases/profile/user_id-1.json")


def test_with_nothing_set_the_failure_is_not_recorded(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["record", "profile", "--input", '{"user_id": 1}']) == 1
    err = capsys.readouterr().err
    assert "not recorded: the run failed (500 misconfigured)" in err
    assert "$REC_USERS_API is not set" in err and "--allow-degraded" in err
    assert not (project / "tests").exists()


def test_a_required_input_must_be_given(
    project: Path, backend: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REC_USERS_API", backend)
    assert main(["record", "profile"]) == 1
    assert "requires input (user_id): pass it with --input" in capsys.readouterr().err
    assert not (project / "tests").exists()


def test_a_good_run_is_recorded_and_says_what_it_kept(
    project: Path, backend: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REC_USERS_API", backend)
    assert main(["record", "profile", "--input", '{"user_id": 1}']) == 0
    out = capsys.readouterr().out
    assert f"recorded {CASE}" in out
    assert "user             ok 200" in out and "team             ok 200" in out
    assert "users: GET /teams/3 -> 200" in out
    assert json.loads(CASE.read_text())["output"] == {"name": "Ada", "team": "Core"}


def test_an_existing_case_is_kept_unless_forced_and_the_diff_is_shown(
    project: Path, backend: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REC_USERS_API", backend)
    args = ["record", "profile", "--input", '{"user_id": 1}']
    assert main(args) == 0
    DATA["/users/1"] = {"name": "Grace", "team_id": 3}
    capsys.readouterr()
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"{CASE} exists; replace it with --force" in err
    assert '-    "name": "Ada",' in err and '+    "name": "Grace",' in err
    assert json.loads(CASE.read_text())["output"]["name"] == "Ada"
    assert main([*args, "--force"]) == 0
    assert json.loads(CASE.read_text())["output"]["name"] == "Grace"


def test_a_degraded_run_is_refused_unless_allowed(
    project: Path, backend: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REC_USERS_API", backend)
    del DATA["/teams/3"]  # the optional team source falls back (omit)
    args = ["record", "profile", "--input", '{"user_id": 1}']
    assert main(args) == 1
    assert "the run was degraded: team (omit)" in capsys.readouterr().err
    assert not CASE.exists()
    assert main([*args, "--allow-degraded"]) == 0
    assert "team             degraded 404" in capsys.readouterr().out
