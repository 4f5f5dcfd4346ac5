"""The todo list page: filters, one page of results, and how many there are in all."""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field

from contracts.todo_list import TodoPage
from functions.backends import todos, users
from sff import Fallback, Function


class ListQuery(BaseModel):
    user_id: int | None = Field(None, ge=1, description="Only this user's todos.")
    done: bool | None = Field(None, description="Only finished (true) or open (false) ones.")
    tag: str | None = Field(None, max_length=40, description="Only todos with this tag.")
    q: str | None = Field(None, max_length=100, description="Title contains this text.")
    page: int = Field(1, ge=1, le=10_000, description="Page number, from 1.")
    page_size: int = Field(20, ge=1, le=100, description="Items per page, 1 to 100.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def offset(self) -> int:
        """Where the page starts; JMESPath has no arithmetic, so the input model does it."""
        return (self.page - 1) * self.page_size


FILTERS = {"userId": "input.user_id", "done": "input.done", "tag": "input.tag", "q": "input.q"}

todo_list = Function(
    "todo_list",
    description="Todos filtered by user, state, tag and title text, one page at a time.",
    input=ListQuery,
    sources={
        # The backend counts the matches before paging (X-Total-Count): no second call.
        "page": todos.get(
            "/todos", query={**FILTERS, "limit": "input.page_size", "offset": "input.offset"}
        ),
        "people": users.get("/users", timeout="800ms", fallback=Fallback.value([])),
    },
    shape={
        "items": """join_on(page, people, 'user_id', 'id', 'owner')[*]
                    .{id: id, title: title, done: done, due: due, priority: priority,
                      tags: tags, owner: owner.name}""",
        "total": """to_number(meta.page.headers."x-total-count")""",
        "page": "input.page",
        "page_size": "input.page_size",
    },
    contract=TodoPage,
    timeout="5s",
)
handler = todo_list.handler
