"""The todo page: the todo, its owner, and its comments each with its author."""

from __future__ import annotations

from pydantic import BaseModel, Field

from contracts.todo_detail import TodoDetail
from functions.backends import todos, users
from sff import Fallback, Function


class TodoQuery(BaseModel):
    todo_id: int = Field(ge=1, description="The todo to show.")


PERSON = "{id: id, name: name, avatar_url: avatar_url}"

todo_detail = Function(
    "todo_detail",
    description="One todo with its owner and its comments, each with its author.",
    input=TodoQuery,
    sources={
        "todo": todos.get("/todos/{input.todo_id}", propagate=(404,)),
        "comments": todos.get("/todos/{input.todo_id}/comments", propagate=(404,)),
        "owner": users.get("/users/{todo.user_id}"),
        # One call per distinct commenter (index_by keeps one entry per user id).
        "authors": users.get(
            "/users/{item}",
            each="keys(index_by(comments, 'user_id'))",
            concurrency=8,
            timeout="800ms",
            fallback=Fallback.value([]),
        ),
    },
    shape={
        "id": "todo.id",
        "title": "todo.title",
        "done": "todo.done",
        "due": "todo.due",
        "priority": "todo.priority",
        "tags": "todo.tags",
        "owner": f"owner.{PERSON}",
        "comments": f"""join_on(comments, authors, 'user_id', 'id', 'author')[*]
                        .{{id: id, body: body, created_at: created_at,
                          author: author && author.{PERSON}}}""",
        "participants": "length(authors)",
    },
    contract=TodoDetail,
    timeout="5s",
)
handler = todo_detail.handler
