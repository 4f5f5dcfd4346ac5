"""The pytest plugin in a fresh project: fixtures, recorded cases, the degradation matrix
and property checks, as a user's test run sees them."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import RootModel  # noqa: F401  (imported before pytester snapshots sys.modules)

from sff.testing.discover import load_functions
from sff.testing.record import record_case

pytest_plugins = ["pytester"]
PLUGIN = ("-p", "no:cacheprovider")  # the plugin itself loads through its pytest11 entry point

FUNCTIONS = """
from pydantic import BaseModel, RootModel
from sff import Backend, Fallback, Function

users = Backend("users", env="USERS_API")
todos = Backend("todos", env="TODOS_API")

class User(BaseModel):
    name: str
    team_id: int
    tags: list[str] | None = None

class Todo(BaseModel):
    done: bool

class Todos(RootModel[list[Todo]]):
    pass

class Query(BaseModel):
    user_id: int

class Profile(BaseModel):
    name: str
    team: str | None
    open: int

profile = Function(
    "profile",
    input=Query,
    sources={
        "user": users.get("/users/{input.user_id}", response=User),
        "team": users.get("/teams/{user.team_id}", fallback=Fallback.omit()),
        "todos": todos.get("/todos", query={"userId": "input.user_id"},
                           fallback=Fallback.value([]), response=Todos),
    },
    shape="{name: user.name, team: team.name, open: length(todos[?!done])}",
    contract=Profile,
)
"""

BUGGY = """
from pydantic import BaseModel
from sff import Fallback, Function
from functions.profile import User, Todos, todos, users

class Digest(BaseModel):
    open: int

class Card(BaseModel):
    tag_count: int

digest = Function(
    "digest",
    sources={"todos": todos.get("/todos", fallback=Fallback.omit(), response=Todos)},
    shape="{open: length(todos)}",
    contract=Digest,
)
card = Function(
    "card",
    sources={"user": users.get("/users/1", response=User)},
    shape="{tag_count: length(user.tags)}",
    contract=Card,
)
"""

DATA = {
    "/users/1": {"name": "Ada", "team_id": 3, "tags": ["x"]},
    "/teams/3": {"name": "Core"},
    "/todos": [{"done": False}, {"done": True}, {"done": False}],
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        body = json.dumps(DATA.get(path, {"error": "not found"})).encode()
        self.send_response(200 if path in DATA else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def project(pytester: pytest.Pytester) -> Iterator[pytest.Pytester]:
    pytester.makepyfile(**{"functions/__init__.py": "", "functions/profile.py": FUNCTIONS})
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.syspathinsert()
    forget_functions()  # another test may have imported this repository's own `functions`
    yield pytester
    forget_functions()


def forget_functions() -> None:
    """Let the next run import the project's functions afresh, as a new process would."""
    for name in [m for m in sys.modules if m.split(".")[0] in ("functions", "contracts")]:
        del sys.modules[name]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*PLUGIN, *args)


def test_a_test_mocks_backends_by_name_through_the_fixture(project: pytest.Pytester) -> None:
    project.makepyfile(
        **{
            "tests/test_profile.py": """
        from functions.profile import profile

        def test_counts_open_todos(backends, sff_invoke):
            backends.users.get("/users/1").respond(json={"name": "Ada", "team_id": 3})
            backends.users.get("/teams/3").fail(503)
            backends.todos.get("/todos").respond(json=[{"done": False}])
            result = sff_invoke(profile, {"user_id": 1})
            assert (result.status, result.data.open) == (200, 1)
            assert result.meta.degraded == ["team"]
        """
        }
    )
    run(project).assert_outcomes(passed=1)


def test_an_unmocked_call_fails_the_test_naming_method_and_url(project: pytest.Pytester) -> None:
    project.makepyfile(
        **{
            "tests/test_unmocked.py": """
        from functions.profile import profile

        def test_forgets_a_backend(backends, sff_invoke):
            backends.users.get("/users/1").respond(json={"name": "Ada", "team_id": 3})
            backends.todos.get("/todos").respond(json=[])
            sff_invoke(profile, {"user_id": 1})
        """
        }
    )
    result = run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unmocked request: GET /teams/3 to backend 'users'*"])


def test_a_mock_for_a_backend_no_function_uses_warns(project: pytest.Pytester) -> None:
    project.makepyfile(
        **{
            "tests/test_unused.py": """
        from functions.profile import profile

        def test_mocks_too_much(backends):
            backends.billing.get("/invoices").respond(json=[])
        """
        }
    )
    result = run(project)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*backends.billing is mocked, but no function*'billing'*"])


def record(project: pytest.Pytester, url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("USERS_API", url)
    monkeypatch.setenv("TODOS_API", url)
    fn = load_functions(project.path)["profile"]
    path = record_case(fn, {"user_id": 1}, out_dir=project.path / "tests" / "cases")
    forget_functions()
    monkeypatch.delenv("USERS_API")
    monkeypatch.delenv("TODOS_API")
    return path


def test_a_recorded_case_replays_as_a_passing_test(
    project: pytest.Pytester, loopback: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = record(project, loopback, monkeypatch)
    case = json.loads(path.read_text())
    assert path == project.path / "tests/cases/profile/user_id-1.json"
    assert case["output"] == {"name": "Ada", "team": "Core", "open": 2}
    paths = sorted(e["request"]["path"] for e in case["exchanges"])
    assert paths == ["/teams/3", "/todos?userId=1", "/users/1"]
    result = run(project, "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*tests/cases/profile/user_id-1.json::replay PASSED*"])


def test_a_changed_shape_fails_the_case_and_the_update_flag_rewrites_it(
    project: pytest.Pytester, loopback: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = record(project, loopback, monkeypatch)
    changed = FUNCTIONS.replace("open: length(todos[?!done])", "open: length(todos)")
    project.makepyfile(**{"functions/profile.py": changed})
    result = run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*output differs from the recording:*", "*open: recorded 2, now 3*"]
    )
    run(project, "--sff-update-cases").assert_outcomes(passed=1)
    assert json.loads(path.read_text())["output"]["open"] == 3
    run(project).assert_outcomes(passed=1)


def test_a_request_not_in_the_recording_fails_naming_it(
    project: pytest.Pytester, loopback: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    record(project, loopback, monkeypatch)
    changed = FUNCTIONS.replace('"/teams/{user.team_id}"', '"/groups/{user.team_id}"')
    project.makepyfile(**{"functions/profile.py": changed})
    result = run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*requests not in the recording:*", "*GET http://users.sff.test/groups/3*"]
    )


def test_a_recording_no_request_uses_is_reported(
    project: pytest.Pytester, loopback: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    record(project, loopback, monkeypatch)
    changed = FUNCTIONS.replace(
        '"team": users.get("/teams/{user.team_id}", fallback=Fallback.omit()),', ""
    ).replace("team: team.name", "team: `null`")
    project.makepyfile(**{"functions/profile.py": changed})
    result = run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no request used any more:*", "*users GET /teams/3*"])


def test_a_corrupt_or_old_case_file_is_a_clear_error_naming_it(project: pytest.Pytester) -> None:
    cases = project.path / "tests" / "cases" / "profile"
    cases.mkdir(parents=True)
    (cases / "broken.json").write_text("{not json")
    (cases / "old.json").write_text(json.dumps({"format": "sff-case/0", "function": "profile"}))
    result = run(project)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*tests/cases/profile/broken.json: not a readable JSON case file*",
            "*tests/cases/profile/old.json: case format 'sff-case/0' is not 'sff-case/1'*",
        ]
    )


def test_one_conftest_line_runs_the_degradation_matrix(project: pytest.Pytester) -> None:
    project.makepyfile(**{"functions/digest.py": BUGGY})
    project.makeconftest("from sff.testing import degradation_matrix\ndegradation_matrix()")
    result = run(project, "-v")
    result.assert_outcomes(passed=4, failed=1, skipped=1)
    for line in (
        "*conftest.py::degradation?card:user? SKIPPED*",  # no happy path: it has a bug too
        "*conftest.py::degradation?profile:user? PASSED*",  # required: a clean 502
        "*conftest.py::degradation?profile:all-optional? PASSED*",
        "*when 'todos' failed, it answered 502 expression_failed*length(todos)*",
    ):
        result.stdout.fnmatch_lines([line])


def test_the_property_check_finds_a_length_of_null_bug(project: pytest.Pytester) -> None:
    project.makepyfile(**{"functions/digest.py": BUGGY})
    project.makepyfile(
        **{
            "tests/test_props.py": """
        from functions.digest import card
        from functions.profile import profile
        from sff.testing import property_test

        test_profile = property_test(profile, 20)
        test_card = property_test(card, 50)
        """
        }
    )
    result = run(project)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*PropertyViolation: function 'card' answered 502 expression_failed*",
            "*Draw 2 (card.user: GET /users/1): {*",
        ]
    )
