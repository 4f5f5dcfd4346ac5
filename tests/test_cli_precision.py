"""`sff list` shows every declared option (text and JSON alike), `sff check --env` names
every variable a function needs, `sff invoke --timeout` takes durations."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sff.cli import main

FUNCTIONS = """
from sff import Backend, Circuit, Fallback, Function, Retry

orders = Backend("orders", env="PREC_ORDERS_API", timeout="1500ms",
                 retry=Retry(retries=3), forward_headers=("Authorization",),
                 vary_headers=("Accept-Language",), circuit=Circuit(failures=4))
cms = Backend("cms", env="PREC_CMS_API", default="http://cms.internal")

checkout = Function(
    "checkout",
    sources={
        "order": orders.post("/orders", body={"sku": "input.sku"},
                             headers={"x-channel": "'web'"},
                             idempotency_key="input.request_id"),
        "lines": orders.get("/lines/{item}", each="order.line_ids", concurrency=4,
                            tolerate=0.25, item_fallback=Fallback.value({}),
                            fallback=Fallback.cache(max_stale="5m", fresh="10s")),
        "banner": cms.get("/banner", personal=True, identity="input.user",
                          retry=Retry.none(), timeout="300ms",
                          fallback=[Fallback.cache(max_stale="1h", fresh="backend"),
                                    Fallback.omit()]),
    },
)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "__init__.py").write_text("")
    (tmp_path / "functions" / "checkout.py").write_text(FUNCTIONS)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    monkeypatch.chdir(tmp_path)
    for var in ("PREC_ORDERS_API", "PREC_CMS_API"):
        monkeypatch.delenv(var, raising=False)
    # This project's `functions` package shadows the repository's: hide the repository's
    # while the test runs and give it back afterwards, so later tests still import it.
    kept = {m: sys.modules.pop(m) for m in list(sys.modules) if m.split(".")[0] == "functions"}
    yield tmp_path
    for name in [m for m in sys.modules if m.split(".")[0] == "functions"]:
        del sys.modules[name]
    sys.modules.update(kept)


def test_list_shows_every_declared_option(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for shown in (
        "POST orders /orders",
        "header x-channel = 'web'",
        'body  {"sku": "input.sku"}',
        "idempotency_key input.request_id",
        "forwards authorization",
        "varies by accept-language",
        "concurrency 4 · tolerate 0.25 · item fallback value({})",
        "timeout 1.5s · retries 3 · circuit 4 in 30s, cooldown 30s",
        "fallback cache(max_stale=300s, fresh=10s)",
        "identity input.user",
        "personal",
        "timeout 0.3s · retries 0",
        'fallback cache(max_stale=3600s, fresh="backend") → omit()',
    ):
        assert shown in out, shown


def test_list_json_carries_the_same(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    sources = json.loads(capsys.readouterr().out)[0]["sources"]
    order, lines, banner = sources["order"], sources["lines"], sources["banner"]
    assert order["body"] == {"sku": "input.sku"} and order["headers"] == {"x-channel": "'web'"}
    assert order["idempotency_key"] == "input.request_id"
    assert order["forward_headers"] == ["authorization"] and order["timeout_s"] == 1.5
    assert order["retry"]["retries"] == 3 and order["circuit"]["failures"] == 4
    assert (lines["concurrency"], lines["tolerate"]) == (4, 0.25)
    assert lines["item_fallback"] == ["value({})"]
    assert banner["retry"] == {**banner["retry"], "retries": 0, "from": "source"}
    assert (banner["personal"], banner["identity"]) == (True, "input.user")
    assert banner["fallback"] == ['cache(max_stale=3600s, fresh="backend")', "omit()"]


def test_check_env_names_every_variable_and_which_are_unset(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--env"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  $PREC_ORDERS_API      unset  (backend 'orders': order, lines)" in out
    assert "ok    $PREC_CMS_API         unset, the default URL is used" in out
    monkeypatch.setenv("PREC_ORDERS_API", "orders.internal:80")
    assert main(["check", "--env"]) == 1
    assert "$PREC_ORDERS_API      set, not an http(s) URL" in capsys.readouterr().out
    monkeypatch.setenv("PREC_ORDERS_API", "http://orders.internal")
    assert main(["check", "--env"]) == 0
    assert main(["check"]) == 0


def test_invoke_timeout_takes_a_duration(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing is set: the answer is misconfigured, but the duration itself was accepted.
    assert main(["invoke", "checkout", "--timeout", "500ms", "--input", '{"sku": 1}']) == 1
    assert '"code": "misconfigured"' in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["invoke", "checkout", "--timeout", "5q"])
    assert exit_.value.code == 2
    assert "not a duration: '5q'" in capsys.readouterr().err
