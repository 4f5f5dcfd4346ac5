"""What the activity page receives: recent events, and whether the list is complete."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Event(BaseModel):
    id: int
    kind: str = Field(description="What happened, e.g. comment.")
    todo_id: int
    user_id: int
    at: str = Field(description="When, as an ISO timestamp.")


class ActivityFeed(BaseModel):
    events: list[Event] = Field(description="Newest first, over every page fetched.")
    count: int = Field(ge=0)
    complete: bool = Field(description="False when the pages stopped early (max_pages, time).")
    reason: str | None = Field(description="Why the feed is incomplete (`pages`), else null.")
