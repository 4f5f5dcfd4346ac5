"""`sff record` writes cases that are safe to commit, against a REAL echoing backend that
returns every credential it was sent, in its body and in its response headers."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from sff import Backend, Function
from sff.testing import cli
from sff.testing.casefile import load_case
from sff.testing.record import record_case
from sff.testing.replay import replay_case
from sff.testing.scrub import case_name
from tests.echo_server import EchoServer, echo_server

STATIC_KEY = "static-key-4c4c"
CLIENT_TOKEN = "client-bearer-6e6e"
QUERY_KEY = "query-key-7a7a"
SIG = "sig-secret-8b8b"
EMAIL = "ada@example.com"
SECRETS = (STATIC_KEY, CLIENT_TOKEN, QUERY_KEY, SIG)


class Who(BaseModel):
    user_id: int
    email: str
    api_key: str


@pytest.fixture(scope="module")
def server() -> Iterator[EchoServer]:
    with echo_server() as running:
        yield running


def echoing(url: str) -> Function:
    api = Backend(
        "echo",
        default=url,
        headers={"x-api-key": STATIC_KEY},
        forward_headers=("authorization",),
        secret_query=("sig",),
    )
    source = api.get(
        "/ok/{input.user_id}",
        query={"api_key": "input.api_key", "sig": f"'{SIG}'", "mail": "input.email"},
    )
    return Function(
        "whoami",
        input=Who,
        sources={"me": source},
        shape="{path: me.path, query: me.query, headers: me.headers}",
    )


INPUT = {"user_id": 7, "email": EMAIL, "api_key": QUERY_KEY}
HEADERS = {"Authorization": f"Bearer {CLIENT_TOKEN}"}


def test_a_recorded_case_holds_no_secret_and_says_what_it_redacted(
    server: EchoServer, tmp_path: Path
) -> None:
    fn = echoing(server.url)
    path = record_case(fn, INPUT, out_dir=tmp_path, headers=HEADERS)
    text = path.read_text()
    assert [s for s in SECRETS if s in text] == []
    case = json.loads(text)
    assert "headers" not in case  # the client's credentials are not kept
    assert case["input"]["api_key"] == "[redacted]" and case["input"]["user_id"] == 7
    exchange = case["exchanges"][0]
    assert "x-echo-token" not in exchange["response"]["headers"]
    assert "set-cookie" not in exchange["response"]["headers"]
    assert "api_key=[redacted]" in exchange["request"]["path"]
    assert "sig=[redacted]" in exchange["request"]["path"]
    assert set(case["redacted"]) >= {
        "client header authorization (not kept)",
        "input field api_key",
        "query api_key (echo)",
        "query sig (echo)",
        "response header x-echo-token (echo)",
        "secret values echoed in GET /ok/7 (echo)",
    }
    assert EMAIL not in path.name and path.name.startswith("user_id-7-")


def test_a_scrubbed_case_still_replays(server: EchoServer, tmp_path: Path) -> None:
    fn = echoing(server.url)
    path = record_case(fn, INPUT, out_dir=tmp_path, headers=HEADERS)
    replay = replay_case(path, fn)
    assert replay.case.output == load_case(path).output


def test_name_chooses_the_file(server: EchoServer, tmp_path: Path) -> None:
    path = record_case(echoing(server.url), INPUT, out_dir=tmp_path, name="ada's profile")
    assert path.name == "ada-s-profile.json"


def test_file_names_come_from_non_personal_fields_or_a_short_hash() -> None:
    assert case_name({"user_id": 1}) == "user_id-1"
    assert case_name({"team_id": 3, "done": False}) == "done-false-team_id-3"
    hashed = case_name({"email": EMAIL})
    assert hashed.startswith("") and EMAIL not in hashed and len(hashed) == 8
    assert case_name({"email": EMAIL}) == hashed  # stable: re-recording overwrites
    assert case_name({"user_id": 1, "token": 5}).startswith("user_id-1-")
    assert case_name(None) == "default" and case_name({}) == "default"


def test_the_command_prints_what_it_redacted(
    server: EchoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fn = echoing(server.url)
    monkeypatch.setattr(cli, "_function", lambda root, name: fn)
    args = argparse.Namespace(
        root=".",
        name="whoami",
        input=json.dumps(INPUT),
        case_name=None,
        header=[f"Authorization=Bearer {CLIENT_TOKEN}"],
        out=str(tmp_path),
        allow_degraded=False,
        force=False,
    )
    assert cli.record(args) == 0
    out = capsys.readouterr().out
    assert "redacted: query api_key (echo)" in out
    assert "redacted: client header authorization (not kept)" in out
    assert not [s for s in SECRETS if s in out]
