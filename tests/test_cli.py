"""The `sff` command: new, list, check, invoke, exit codes and the waterfall."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.backend import serve_in_thread
from sff import cli
from sff.cli import COMMANDS, Command, build_parser, main
from sff.result import Meta, SourceMeta
from sff.waterfall import render_waterfall

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_imports() -> Iterator[None]:
    """Projects share top-level names (`functions`, `contracts`): undo what a test imported."""
    modules, path = dict(sys.modules), list(sys.path)
    yield
    for name in set(sys.modules) - set(modules):
        del sys.modules[name]
    sys.modules.update(modules)
    sys.path[:] = path


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch, in_repo: None) -> Iterator[str]:
    with serve_in_thread() as url:
        monkeypatch.setenv("USERS_API", url)
        monkeypatch.setenv("TODOS_API", url)
        yield url


def make_project(root: Path, modules: dict[str, str]) -> Path:
    (root / "functions").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.sff]\nfunctions = "functions"\n')
    (root / "functions" / "__init__.py").write_text("")
    for name, source in modules.items():
        (root / "functions" / f"{name}.py").write_text(source)
    return root


GOOD = """\
from sff import Backend, Function
api = Backend("api", env="API")
good = Function("good", sources={"user": api.get("/users/{input.id}")}, shape="user")
"""

BAD_EXPRESSION = """\
from sff import Backend, Function
api = Backend("api", env="API")

broken = Function(
    "broken",
    sources={"user": api.get("/users/{input.id}")},
    shape={"name": "user.name[?"},
)
"""


# -- new ---------------------------------------------------------------------------------


def test_new_project_passes_check_and_its_own_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["new", "shop"]) == 0
    created = {p.relative_to(tmp_path / "shop").as_posix() for p in (tmp_path / "shop").rglob("*")}
    assert {
        "pyproject.toml",
        "functions/hello.py",
        "contracts/hello.py",
        "tests/test_hello.py",
    } <= created

    monkeypatch.chdir(tmp_path / "shop")
    assert main(["check"]) == 0
    assert "ok    hello  functions/hello.py" in capsys.readouterr().out

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "shop",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "6 passed" in tests.stdout  # 4 tests and the 2 cells of the degradation matrix


def test_new_refuses_a_folder_that_is_not_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "notes.txt").write_text("mine")

    assert main(["new", "shop"]) == 2

    err = capsys.readouterr().err
    assert "already exists and is not empty" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "shop").iterdir()) == ["notes.txt"]


# -- list --------------------------------------------------------------------------------


def test_list_shows_route_input_sources_and_plan(
    in_repo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list"]) == 0

    out = capsys.readouterr().out
    assert "dashboard  GET /dashboard  — The signed-in user's home page" in out
    assert "input     DashboardQuery(user_id: int)" in out
    assert "members  GET users /teams/{user.team_id}/members" in out
    assert "after user · timeout 0.8s · retries 2 · fallback value([])" in out
    assert "each  keys(index_by(comments, 'user_id'))" in out
    assert "stages    [user, todos] → [team, members]" in out
    assert "critical  todo → owner" in out


def test_list_json_describes_every_function(
    in_repo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--json"]) == 0

    listed = {f["name"]: f for f in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"dashboard", "send_digest", "todo_detail", "todo_list"}
    authors = listed["todo_detail"]["sources"]["authors"]
    assert authors["deps"] == ["comments"] and authors["fallback"] == ["value([])"]
    assert listed["send_digest"]["sources"]["board"] == {
        "kind": "call",
        "target": "dashboard",
        "args": {"user_id": "input.user_id"},
        "required": True,
    }
    assert listed["dashboard"]["plan"]["stages"] == [["user", "todos"], ["team", "members"]]


def test_list_shows_propagated_statuses_and_meta_reads(
    in_repo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    detail = out[out.index("todo_detail  GET") :]
    assert "todo      GET todos /todos/{input.todo_id}\n" in detail
    assert "propagates 404 as the answer's status" in detail.split("    owner ")[0]
    assert "shape reads meta of  page (status, headers)" in out[out.index("todo_list  GET") :]

    assert main(["list", "--json"]) == 0
    listed = {f["name"]: f for f in json.loads(capsys.readouterr().out)}
    assert listed["todo_detail"]["sources"]["todo"]["propagate"] == [404]
    assert "propagate" not in listed["todo_detail"]["sources"]["owner"]
    assert listed["todo_list"]["shape_meta_reads"] == ["page"]
    assert listed["todo_list"]["exposed_responses"] == ["page"]
    assert listed["dashboard"]["exposed_responses"] == []


# -- check -------------------------------------------------------------------------------


def test_check_names_file_line_function_field_and_caret_of_a_bad_expression(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(make_project(tmp_path, {"good": GOOD, "bad": BAD_EXPRESSION}))

    assert main(["check"]) == 1

    out = capsys.readouterr().out
    assert "ok    good" in out
    assert "FAIL  functions/bad.py:7 (functions.bad)" in out  # the shape entry, not Function(
    assert "function 'broken', shape.name:" in out
    lines = out.splitlines()
    expression = next(i for i, line in enumerate(lines) if line.strip() == "user.name[?")
    assert lines[expression + 1].strip() == "^"
    assert "Traceback" not in out


def test_check_shows_an_import_error_in_one_line_and_the_traceback_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(make_project(tmp_path, {"boom": "import not_a_module_anywhere\n"}))

    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  functions/boom.py:1 (functions.boom)" in out
    assert "ModuleNotFoundError: No module named 'not_a_module_anywhere'" in out
    assert "Traceback" not in out

    assert main(["check", "--traceback"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().out


def test_check_names_both_modules_when_two_functions_share_a_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(make_project(tmp_path, {"one": GOOD, "two": GOOD}))

    assert main(["check"]) == 1

    out = capsys.readouterr().out
    assert "two functions are named 'good'" in out
    assert "functions.one.good" in out and "functions.two.good" in out


def test_a_function_imported_to_compose_it_is_not_a_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    composed = "from functions.good import good\n"
    monkeypatch.chdir(make_project(tmp_path, {"good": GOOD, "reuse": composed}))

    assert main(["check"]) == 0
    assert capsys.readouterr().out.count("ok    good  functions/good.py") == 1


def test_check_outside_any_project_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["check"]) == 2
    assert "no sff project here" in capsys.readouterr().err


# -- invoke ------------------------------------------------------------------------------


def test_invoke_prints_the_answer_and_exits_0(
    backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", "dashboard", "--input", '{"user_id": 1}']) == 0

    captured = capsys.readouterr()
    assert json.loads(captured.out)["user"]["id"] == 1
    assert captured.err == ""


def test_invoke_meta_prints_a_waterfall_row_per_source(
    backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", "todo_detail", "-i", '{"todo_id": 37}', "--meta"]) == 0

    err = capsys.readouterr().err
    rows = {line.split()[0]: line for line in err.splitlines()[2:] if line.startswith("  ")}
    assert set(rows) >= {"todo", "comments", "owner", "authors", "stages", "critical"}
    assert "█" in rows["todo"] and rows["todo"].rstrip().endswith("ok")
    assert "6 items" in rows["authors"]
    assert err.startswith("todo_detail  200  ")


def test_invoke_prints_the_error_json_and_exits_1_when_a_source_fails(
    backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", "todo_detail", "-i", '{"todo_id": 9999}', "--meta"]) == 1

    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    # todo_detail propagates a missing todo's 404 (propagate=(404,)): the answer is a 404
    assert error["code"] == "not_found" and error["upstream_status"] == 404
    assert error["request_id"]
    assert "todo_detail  404" in captured.err and "Traceback" not in captured.err


def test_invoke_reports_bad_input_as_error_json(
    backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", "todo_list", "-i", '{"page_size": 0}']) == 1

    assert json.loads(capsys.readouterr().out)["error"]["field"] == "page_size"


def test_invoke_forwards_headers_given_with_the_flag() -> None:
    assert cli.parse_headers(["Authorization: Bearer x", "X-Tenant:acme"]) == {
        "authorization": "Bearer x",
        "x-tenant": "acme",
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["invoke", "nope"], "unknown function 'nope'; known: dashboard, send_digest"),
        (["invoke", "dashboard", "--input", "{user"], "--input is not valid JSON"),
        (["invoke", "dashboard", "--input", "@missing.json"], "--input @missing.json"),
        (["invoke", "dashboard", "--header", "no-colon"], "--header expects NAME:VALUE"),
    ],
)
def test_invoke_usage_errors_exit_2_with_one_line(
    in_repo: None, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2

    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_installed_command_exits_2_without_a_traceback() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "sff.cli", "invoke", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.startswith("sff invoke: unknown function 'nope'")
    assert "Traceback" not in run.stderr


# -- laziness and the waterfall ------------------------------------------------------------


def test_only_the_chosen_command_module_is_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    later = Command("a later command", "sff_not_installed.cli", "configure", "run")
    monkeypatch.setitem(COMMANDS, "later", later)

    parser = build_parser("invoke")

    assert parser.parse_args(["invoke", "dashboard", "--meta"]).meta is True
    with pytest.raises(ModuleNotFoundError):
        build_parser("later")


def test_waterfall_bars_are_scaled_to_the_invocation() -> None:
    meta = Meta("f", "r1", duration_ms=100.0)
    meta.sources["a"] = SourceMeta("a", "ok", 200, 1, start_ms=0.0, end_ms=50.0)
    meta.sources["b"] = SourceMeta(
        "b", "degraded", None, 3, 50.0, 100.0, degraded="value", error="source 'b' failed: HTTP 503"
    )
    meta.sources["c"] = SourceMeta("c", "skipped", None, 0, 50.0, 50.0)
    meta.sources["d"] = SourceMeta("d", "ok", 200, 2, 0.0, 40.0, spans=[
        {"start_ms": 0.0, "end_ms": 5.0, "status": 503, "error": "HTTP 503"},
        {"start_ms": 20.0, "end_ms": 40.0, "status": 200},
    ])  # fmt: skip

    lines = render_waterfall(meta, width=20).splitlines()
    d = next(line for line in lines if line.startswith("  d "))
    assert d.endswith("ok  tries 503 → 200")

    assert lines[0] == "f  100.0 ms  request r1"
    a, b, c = (next(line for line in lines if line.startswith(f"  {n} ")) for n in "abc")
    assert a[12:32] == "█" * 10 + " " * 10
    assert b[12:32] == " " * 10 + "█" * 10
    assert c[12:32] == " " * 10 + "·" + " " * 9
    assert "50.0" in a and "200" in a and a.endswith("ok")
    assert b.endswith("degraded (value)")
    assert any(line.endswith("b: source 'b' failed: HTTP 503") for line in lines)
