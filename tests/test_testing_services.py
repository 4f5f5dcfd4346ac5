"""`call()` services mocked by name: answers, failures and the kwargs each call got."""

from __future__ import annotations

from typing import Any

import pytest

from sff import Fallback, Function, call
from sff.testing import MockServices, ainvoke

pytest_plugins = ["pytester"]


async def send_email(**kwargs: Any) -> dict[str, Any]:
    raise RuntimeError("the real SDK must not run in a test")


notify = Function(
    "notify",
    sources={
        "mailer": call(send_email, args={"to": "input.to", "subject": "'Hello'"}),
        "audit": call(send_email, args={"to": "'audit@x.test'"}, fallback=Fallback.omit()),
    },
    shape={"sent": "mailer.id", "audited": "audit.id"},
)


async def test_a_service_answers_what_the_test_says_and_keeps_the_kwargs() -> None:
    with MockServices([notify]) as services:
        services.mailer.returns({"id": "m-1"})
        services.audit.returns({"id": "a-1"})
        result = await ainvoke(notify, {"to": "ada@x.test"})
    assert result.status == 200 and result.data == {"sent": "m-1", "audited": "a-1"}  # type: ignore[union-attr]
    assert services.mailer.calls == [{"to": "ada@x.test", "subject": "Hello"}]


async def test_a_raising_service_fails_its_source_and_the_fallback_applies() -> None:
    with MockServices([notify]) as services:
        services.mailer.returns({"id": "m-1"})
        services.audit.raises(TimeoutError("SDK timed out"))
        result = await ainvoke(notify, {"to": "ada@x.test"})
    assert result.status == 200 and result.meta.degraded == ["audit"]
    assert "TimeoutError" in (result.meta.sources["audit"].error or "")


async def test_a_callable_is_mocked_by_its_own_name_too() -> None:
    with MockServices([notify]) as services:
        services.send_email.returns({"id": "both"})
        result = await ainvoke(notify, {"to": "ada@x.test"})
    assert result.data == {"sent": "both", "audited": "both"}  # type: ignore[union-attr]
    assert services.send_email.call_count == 2


def test_the_declaration_gets_its_service_back_after_the_test() -> None:
    with MockServices([notify]) as services:
        services.mailer.returns({"id": "m-1"})
        assert notify.plan.nodes["mailer"].source.target is not send_email  # type: ignore[union-attr]
    assert notify.plan.nodes["mailer"].source.target is send_email  # type: ignore[union-attr]


def test_a_name_no_source_has_is_an_error_naming_the_known_ones() -> None:
    with MockServices([notify]) as services, pytest.raises(AttributeError, match="known: "):
        services.mailr.returns({})


async def test_an_untold_service_fails_the_call_with_the_fix() -> None:
    with MockServices([notify]) as services:
        services.mailer  # noqa: B018
        services.audit.returns({"id": "a-1"})
        answer = await ainvoke(notify, {"to": "a@x.test"})
    assert answer.status == 502
    assert "add services.mailer.returns(...)" in answer.message  # type: ignore[union-attr]


def test_the_services_fixture_in_a_user_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_notify="""
from sff import Function, call

async def send_email(**kwargs):
    raise RuntimeError("real SDK")

notify = Function("notify", sources={"mailer": call(send_email, args={"to": "input.to"})},
                  shape={"sent": "mailer.id"})

def test_it(services, sff_invoke):
    services.mailer.returns({"id": "m-1"})
    result = sff_invoke(notify, {"to": "ada@x.test"})
    assert result.status == 200 and result.data == {"sent": "m-1"}
    assert services.mailer.calls == [{"to": "ada@x.test"}]
"""
    )
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
