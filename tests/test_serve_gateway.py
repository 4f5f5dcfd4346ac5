"""The gateway on a small project: the two process models (cold starts, warm reuse, idle
reclaim, capacity), the summary's counts, and bad input (unknown route, a module that does
not import, an instance that crashes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_serve_support import Running, make_project, running_gateway


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("serve-models") / "project")


@pytest.fixture(scope="module")
def resident(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    logs = tmp_path_factory.mktemp("resident-logs")
    with running_gateway(project, logs, "--model", "resident", "--idle-timeout", "1") as gw:
        yield gw


@pytest.fixture(scope="module")
def destroy(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    logs = tmp_path_factory.mktemp("destroy-logs")
    args = ("--model", "destroy", "--max-instances", "1", "--queue-timeout", "0.2")
    with running_gateway(project, logs, *args) as gw:
        yield gw


def get(gw: Running, path: str) -> httpx.Response:
    return httpx.get(gw.url + path, timeout=60)


def test_destroy_runs_every_request_in_a_fresh_cold_instance(destroy: Running) -> None:
    answers = [get(destroy, f"/hello?name=n{i}") for i in range(3)]

    assert [a.json() for a in answers] == [{"greeting": f"hello n{i}"} for i in range(3)]
    assert [a.headers["x-sff-cold-start"] for a in answers] == ["true"] * 3
    assert len({a.headers["x-sff-instance"] for a in answers}) == 3
    assert all(a.headers["server-timing"].startswith("init;dur=") for a in answers)
    assert destroy.log().count("Start: cold") >= 3


async def test_destroy_over_capacity_answers_503_with_retry_after(destroy: Running) -> None:
    async with httpx.AsyncClient(base_url=destroy.url, timeout=60) as client:
        answers = await asyncio.gather(*(client.get("/nap?ms=300") for _ in range(4)))

    statuses = sorted(a.status_code for a in answers)
    refused = [a for a in answers if a.status_code == 503]
    assert statuses[0] == 200 and refused, statuses
    assert all(a.headers["retry-after"] == "1" for a in refused)
    assert refused[0].json()["error"]["code"] == "over_capacity"


def test_resident_start_is_cold_once_then_warm_on_the_same_instance(resident: Running) -> None:
    answers = [get(resident, f"/hello?name=r{i}") for i in range(4)]

    assert [a.headers["x-sff-cold-start"] for a in answers] == ["true", "false", "false", "false"]
    assert len({a.headers["x-sff-instance"] for a in answers}) == 1
    assert "init;dur=" not in answers[1].headers.get("server-timing", "")


def test_resident_instance_idle_past_the_timeout_is_reclaimed(resident: Running) -> None:
    first = get(resident, "/nap?ms=0")
    warm = get(resident, "/nap?ms=0")
    time.sleep(2.5)  # idle timeout 1 s, reclaim checked every 0.25 s
    after = get(resident, "/nap?ms=0")

    assert (first.headers["x-sff-cold-start"], warm.headers["x-sff-cold-start"]) == (
        "true",
        "false",
    )
    assert after.headers["x-sff-cold-start"] == "true"
    assert after.headers["x-sff-instance"] != first.headers["x-sff-instance"]
    assert f"RECLAIM Instance: {first.headers['x-sff-instance']}" in resident.log()


def test_summary_counts_match_the_requests_sent(project: Path, tmp_path: Path) -> None:
    with running_gateway(project, tmp_path, "--billing-granularity", "100") as gw:
        answers = [get(gw, "/hello?name=s") for _ in range(3)] + [get(gw, "/nowhere")]
        stats = get(gw, "/_sff/stats").json()
        output = gw.stop()

    assert [a.status_code for a in answers] == [200, 200, 200, 404]
    assert stats["functions"]["hello"] == {
        **stats["functions"]["hello"],
        "invocations": 3,
        "cold_starts": 1,
        "errors": 0,
    }
    assert list(stats["functions"]) == ["hello"]
    assert all(int(a.headers["x-sff-billed-duration-ms"]) % 100 == 0 for a in answers[:3])
    assert stats["total"]["gb_seconds"] > 0 and stats["total"]["cost_usd"] > 0
    summary = output.split("sff serve summary (model=resident)")[1].splitlines()
    rows = {line.split()[0]: line.split()[1:3] for line in summary[2:4]}
    assert rows == {"hello": ["3", "1"], "total": ["3", "1"]}


def test_unknown_route_answers_404_listing_the_routes(resident: Running) -> None:
    answer = get(resident, "/no/such/function")

    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] == "not_found"
    assert error["routes"] == ["GET /crashy", "GET /hello", "GET /nap"]


def test_broken_module_answers_500_and_the_others_are_still_served(resident: Running) -> None:
    broken = get(resident, "/broken")
    other = get(resident, "/hello?name=still")

    assert broken.status_code == 500
    assert broken.json()["error"]["code"] == "import_failed"
    assert "RuntimeError" not in broken.text  # the cause goes to the log, not the caller
    assert "this module is broken on purpose" in resident.err.read_text()
    assert other.status_code == 200 and other.json() == {"greeting": "hello still"}


def test_crash_mid_invocation_answers_502_and_the_next_gets_a_fresh_instance(
    resident: Running,
) -> None:
    before = get(resident, "/crashy?how=live")
    crashed = get(resident, "/crashy?how=crash")
    after = get(resident, "/crashy?how=live")

    assert (before.status_code, crashed.status_code, after.status_code) == (200, 502, 200)
    assert crashed.json()["error"]["code"] == "crash"
    assert crashed.headers["x-sff-instance"] == before.headers["x-sff-instance"]
    assert after.headers["x-sff-instance"] != crashed.headers["x-sff-instance"]
    assert after.headers["x-sff-cold-start"] == "true"
