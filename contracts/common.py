"""Pieces several pages share: a person, and the fields every todo row shows."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

Priority = Literal["low", "medium", "high"]


class Person(BaseModel):
    """Someone shown next to a todo or a comment."""

    id: int = Field(description="The user's id.")
    name: str = Field(description="Full name, ready to display.")
    avatar_url: str | None = Field(None, description="Avatar image URL.")


class TodoRow(BaseModel):
    """One todo as a list shows it."""

    id: int = Field(description="The todo's id.")
    title: str = Field(description="What is to be done.")
    done: bool = Field(description="Whether it is finished.")
    due: dt.date = Field(description="Due date (ISO 8601).")
    priority: Priority = Field(description="low, medium or high.")
    tags: list[str] = Field(default_factory=list, description="Labels, sorted.")
    owner: str | None = Field(
        None, description="The owner's name; null when the directory could not be reached."
    )
