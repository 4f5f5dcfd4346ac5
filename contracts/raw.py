"""Raw-data contracts: what the todo app's backends return. Declared on sources with
`response=`, they let the property checks generate backend answers and prove that every
answer the backends may give yields a valid contract or a clean error."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from contracts.common import Priority


class User(BaseModel):
    id: int
    name: str
    email: str
    team_id: int
    avatar_url: str | None = None


class Team(BaseModel):
    id: int
    name: str
    slug: str
    description: str | None = None


class Member(BaseModel):
    id: int
    name: str


class Todo(BaseModel):
    id: int
    user_id: int
    title: str
    done: bool
    due: dt.date  # the todos API sends ISO 8601 dates
    priority: Priority
    tags: list[str]


class Comment(BaseModel):
    id: int
    todo_id: int
    user_id: int
    body: str
    created_at: str
