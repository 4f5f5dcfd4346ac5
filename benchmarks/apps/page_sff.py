"""A 3-source page with sff: the FaaS handler, and the ASGI app (``app``)."""

from __future__ import annotations

from pydantic import BaseModel

from sff import Backend, Function


class Todo(BaseModel):
    id: int
    title: str


class Page(BaseModel):
    user: str
    team: str
    todo: Todo


api = Backend("api", env="BENCH_API")

page = Function(
    "page",
    sources={
        "user": api.get("/users/1"),
        "team": api.get("/teams/1"),
        "todo": api.get("/todos/1"),
    },
    shape="{user: user.name, team: team.name, todo: {id: todo.id, title: todo.title}}",
    contract=Page,
)
handler = page.handler


def asgi() -> object:
    from sff.adapters.asgi import app

    return app(page)


if __name__ == "__main__":
    answer = handler({}, None)
    assert answer["statusCode"] == 200, answer
