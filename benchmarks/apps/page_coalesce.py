"""The 3-source page, each backend call taking 20 ms, forwarding the caller's credentials:
what 64 concurrent identical page requests cost the backends (`benchmarks.coalesce`)."""

from __future__ import annotations

from sff import Backend, Function
from sff.adapters.asgi import App, app

api = Backend("api", env="BENCH_API", forward_headers=("authorization",))
slow = {"_delay": "`20`"}

page = Function(
    "page",
    sources={
        "user": api.get("/users/1", query=slow),
        "team": api.get("/teams/1", query=slow),
        "todo": api.get("/todos/1", query=slow),
    },
    shape="{user: user.name, team: team.name, todo: todo.title}",
)


def resident() -> App:
    return app(page)


def isolated() -> App:
    return app(page, resident=False)
