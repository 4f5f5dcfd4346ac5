"""What the todo page receives: the todo, its owner and its comments with their authors."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from contracts.common import Person, Priority


class CommentView(BaseModel):
    id: int = Field(description="The comment's id.")
    body: str = Field(description="The comment text.")
    created_at: dt.datetime = Field(description="When it was written (UTC).")
    author: Person | None = Field(
        description="Who wrote it; null when the directory could not be reached."
    )


class TodoDetail(BaseModel):
    """One todo with everything its page shows."""

    id: int = Field(description="The todo's id.")
    title: str = Field(description="What is to be done.")
    done: bool = Field(description="Whether it is finished.")
    due: dt.date = Field(description="Due date (ISO 8601).")
    priority: Priority = Field(description="low, medium or high.")
    tags: list[str] = Field(description="Labels, sorted.")
    owner: Person = Field(description="Whose todo it is.")
    comments: list[CommentView] = Field(description="Oldest first.")
    participants: int = Field(description="Distinct people who commented.")
