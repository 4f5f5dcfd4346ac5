"""The example todo app's functions against the real demo backend over loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from contracts.dashboard import Dashboard
from contracts.send_digest import Digest
from contracts.todo_detail import TodoDetail
from contracts.todo_list import TodoPage
from demo.backend import DemoBackend, serve_in_thread
from demo.seed import Seed, build_seed
from functions.dashboard import dashboard
from functions.send_digest import send_digest
from functions.todo_detail import todo_detail
from functions.todo_list import todo_list
from sff import InputError, SourceError
from sff.cache import MemoryStore
from sff.propagate import PropagatedError


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, DemoBackend]]:
    backend = DemoBackend()
    with serve_in_thread(backend=backend) as url:
        yield url, backend


@pytest.fixture(autouse=True)
def apis(server: tuple[str, DemoBackend], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERS_API", server[0])
    monkeypatch.setenv("TODOS_API", server[0])
    monkeypatch.delenv("MAIL_API", raising=False)
    monkeypatch.setenv("SFF_CACHE_URL", "memory://")  # nothing outlives one invocation


@pytest.fixture(scope="module")
def seed() -> Seed:
    return build_seed()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def open_todos(seed: Seed, user_id: int) -> list[dict[str, Any]]:
    return [dict(t) for t in seed.todos if t["user_id"] == user_id and not t["done"]]


def test_dashboard_shows_the_user_team_and_open_todos_soonest_first(seed: Seed) -> None:
    user = seed.users_by_id[3]
    team = seed.teams_by_id[user["team_id"]]

    result = dashboard.run({"user_id": 3})

    board = result.data
    assert isinstance(board, Dashboard)
    assert (board.user.name, board.user.email) == (user["name"], user["email"])
    assert (board.team.name, board.team.members) == (
        team["name"],
        sum(u["team_id"] == team["id"] for u in seed.users),
    )
    expected = sorted(open_todos(seed, 3), key=lambda t: t["due"])
    assert [t.id for t in board.open] == [t["id"] for t in expected]
    assert board.open_count == len(expected)
    assert board.done_count == sum(t["user_id"] == 3 and t["done"] for t in seed.todos)
    assert {t.owner for t in board.open} <= {user["name"]}
    assert result.meta.degraded == []


def test_dashboard_starts_team_only_after_user_and_todos_with_user() -> None:
    assert dashboard.plan.stages() == [["user", "todos"], ["team", "members"]]


def test_dashboard_answers_with_empty_todos_when_the_todos_api_is_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TODOS_API", closed_port_url())

    result = dashboard.run({"user_id": 2})

    assert result.meta.degraded == ["todos"]
    assert result.data.open == [] and result.data.open_count == 0
    assert result.data.user.id == 2
    assert "x-sff-degraded" in result.headers()


def test_dashboard_serves_the_last_good_todos_when_the_todos_api_goes_down(
    seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    with serve_in_thread() as todos_url:
        monkeypatch.setenv("TODOS_API", todos_url)
        fresh = dashboard.run({"user_id": 6}, cache=store)

    stale = dashboard.run({"user_id": 6}, cache=store)

    assert fresh.meta.degraded == [] and stale.meta.degraded == ["todos"]
    assert stale.meta.sources["todos"].degraded == "cache"
    assert stale.data == fresh.data
    assert stale.data.open_count == len(open_todos(seed, 6))


def test_dashboard_fails_with_502_naming_user_for_an_unknown_user() -> None:
    with pytest.raises(SourceError) as failure:
        dashboard.run({"user_id": 999})

    assert failure.value.status == 502
    assert failure.value.source == "user"
    assert failure.value.upstream_status == 404


def test_todo_detail_attaches_each_comment_author_with_one_call_per_commenter(
    seed: Seed, server: tuple[str, DemoBackend]
) -> None:
    todo = seed.todos_by_id[37]
    comments = seed.comments_by_todo[37]
    commenters = {c["user_id"] for c in comments}
    server[1].reset()

    result = todo_detail.run({"todo_id": 37})

    detail = result.data
    assert isinstance(detail, TodoDetail)
    assert (detail.title, detail.owner.name) == (
        todo["title"],
        seed.users_by_id[todo["user_id"]]["name"],
    )
    assert [c.id for c in detail.comments] == [c["id"] for c in comments]
    for view, raw in zip(detail.comments, comments, strict=True):
        assert view.author is not None
        assert view.author.name == seed.users_by_id[raw["user_id"]]["name"]
    assert detail.participants == len(commenters) == result.meta.sources["authors"].items
    user_calls = sum(
        n for path, n in server[1].stats()["by_path"].items() if path.startswith("/users/")
    )
    assert user_calls == len(commenters | {todo["user_id"]})


def test_todo_detail_answers_404_not_found_for_a_missing_todo() -> None:
    # propagate=(404,) on its required sources: "no such todo", not "the backend is down"
    with pytest.raises(PropagatedError) as failure:
        todo_detail.run({"todo_id": 9999})

    assert (failure.value.status, failure.value.code) == (404, "not_found")
    assert failure.value.detail["upstream_status"] == 404
    assert failure.value.source in ("todo", "comments")  # both 404; the first one answers
    assert "9999" not in failure.value.message  # a fixed message, not the backend's words


def test_todo_detail_still_answers_502_when_the_todo_backend_is_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TODOS_API", closed_port_url())
    with pytest.raises(SourceError) as failure:
        todo_detail.run({"todo_id": 3})

    assert (failure.value.status, failure.value.code) == (502, "source_failed")


def test_todo_list_pages_filtered_todos_and_counts_all_matches(seed: Seed) -> None:
    matches = [t for t in seed.todos if not t["done"] and "api" in t["tags"]]

    result = todo_list.run({"done": False, "tag": "api", "page": 2, "page_size": 4})

    page = result.data
    assert isinstance(page, TodoPage)
    assert [t.id for t in page.items] == [t["id"] for t in matches[4:8]]
    assert page.total == len(matches)
    assert page.pages == -(-len(matches) // 4)
    assert page.has_next == (len(matches) > 8)
    owners = {t.owner for t in page.items}
    assert owners == {seed.users_by_id[t["user_id"]]["name"] for t in matches[4:8]}


def test_todo_list_counts_from_x_total_count_in_one_request(
    seed: Seed, server: tuple[str, DemoBackend]
) -> None:
    server[1].reset()
    result = todo_list.run({"user_id": 2, "page_size": 2})

    assert result.data.total == sum(1 for t in seed.todos if t["user_id"] == 2)
    assert server[1].stats()["by_path"]["/todos"] == 1  # no unpaged second call to count
    assert set(result.meta.sources) == {"page", "people"}


def test_todo_list_last_page_has_no_next_page(seed: Seed) -> None:
    mine = [t for t in seed.todos if t["user_id"] == 5]

    page = todo_list.run({"user_id": 5, "page": 1, "page_size": 100}).data

    assert page.total == len(mine) == len(page.items)
    assert (page.pages, page.has_next) == (1, False)


def test_todo_list_searches_titles_case_insensitively(seed: Seed) -> None:
    page = todo_list.run({"q": "BILLING", "page_size": 100}).data

    assert page.total == sum("billing" in t["title"].lower() for t in seed.todos)
    assert all("billing" in t.title.lower() for t in page.items)


@pytest.mark.parametrize(
    ("bad", "field"), [({"page_size": 101}, "page_size"), ({"page": 0}, "page")]
)
def test_todo_list_rejects_out_of_bounds_paging(bad: dict[str, int], field: str) -> None:
    with pytest.raises(InputError) as failure:
        todo_list.run(bad)

    assert failure.value.status == 400
    assert failure.value.detail["field"] == field


def test_send_digest_mails_the_users_open_high_priority_todos(
    seed: Seed, server: tuple[str, DemoBackend]
) -> None:
    user = seed.users_by_id[4]
    urgent = [t for t in open_todos(seed, 4) if t["priority"] == "high"]
    urgent.sort(key=lambda t: t["due"])
    before = len(server[1].notifications)

    digest = send_digest.run({"user_id": 4}).data

    assert isinstance(digest, Digest)
    assert digest.to == user["email"]
    assert [i.id for i in digest.items] == [t["id"] for t in urgent]
    assert digest.notification is not None and digest.notification.status == "queued"
    sent = server[1].notifications[before:]
    assert len(sent) == 1 and sent[0]["to"] == user["email"]
    assert sent[0]["subject"] == f"You have {len(urgent)} high-priority todos"
    assert sent[0]["body"].splitlines() == [f"- {t['title']} (due {t['due']})" for t in urgent]


def test_send_digest_sends_nothing_without_high_priority_todos(
    seed: Seed, server: tuple[str, DemoBackend]
) -> None:
    assert not [t for t in open_todos(seed, 1) if t["priority"] == "high"]
    before = len(server[1].notifications)

    result = send_digest.run({"user_id": 1})

    assert result.data.items == [] and result.data.notification is None
    assert result.meta.sources["mail"].outcome == "skipped"
    assert len(server[1].notifications) == before


def test_send_digest_fails_with_502_naming_mail_when_the_mail_service_is_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAIL_API", closed_port_url())

    with pytest.raises(SourceError) as failure:
        send_digest.run({"user_id": 4})

    assert failure.value.source == "mail"
    assert failure.value.status == 502
