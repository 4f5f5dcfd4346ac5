"""The home page: who I am, my team, and my open todos with their owner attached."""

from __future__ import annotations

from pydantic import BaseModel, Field

from contracts.dashboard import Dashboard
from contracts.raw import Member, Team, Todo, User
from functions.backends import todos, users
from sff import Fallback, Function


class DashboardQuery(BaseModel):
    user_id: int = Field(ge=1, description="The signed-in user.")


dashboard = Function(
    "dashboard",
    description="The signed-in user's home page: profile, team and open todos.",
    input=DashboardQuery,
    sources={
        "user": users.get("/users/{input.user_id}", response=User),
        # `team` and `members` start the moment `user` is in; `todos` does not wait for it.
        "team": users.get("/teams/{user.team_id}", response=Team),
        "members": users.get(
            "/teams/{user.team_id}/members",
            timeout="800ms",
            fallback=Fallback.value([]),
            response=list[Member],
        ),
        # If the todos API fails: its last good answer (up to an hour old), else nothing.
        "todos": todos.get(
            "/todos",
            query={"userId": "input.user_id"},
            fallback=[Fallback.cache(max_stale="1h"), Fallback.value([])],
            response=list[Todo],
        ),
    },
    shape={
        "user": "pick(user, ['id', 'name', 'email', 'avatar_url'])",
        "team": "{id: team.id, name: team.name, members: length(members)}",
        "open_count": "length(todos[?!done])",
        "done_count": "length(todos[?done])",
        "open": """join_on(sort_by(todos[?!done], &due), members, 'user_id', 'id', 'owner')[*]
                   .{id: id, title: title, done: done, due: due, priority: priority,
                     tags: tags, owner: owner.name}""",
    },
    contract=Dashboard,
    timeout="5s",
)
handler = dashboard.handler
