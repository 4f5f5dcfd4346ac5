"""The activity page: a user's recent events, read from a cursor-paged list.

`paginate=` follows the backend's ``next_cursor`` page by page and concatenates the
items; at most five pages are read, and a feed cut short says so in the answer.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from contracts.activity_feed import ActivityFeed
from functions.backends import todos
from sff import Fallback, Function, Paginate


class FeedQuery(BaseModel):
    user_id: int | None = Field(default=None, ge=1, description="Only this user's events.")


activity_feed = Function(
    "activity_feed",
    description="Recent activity, every page of the cursor-paged feed up to five.",
    input=FeedQuery,
    sources={
        # GET /activity/cursor?userId=..&limit=20, then &cursor=<next_cursor> while there is one
        "events": todos.get(
            "/activity/cursor",
            query={"userId": "input.user_id", "limit": 20},
            paginate=Paginate.cursor("next_cursor", items="items", max_pages=5),
            fallback=Fallback.value([]),
        ),
    },
    shape={
        "events": "events[*].{id: id, kind: kind, todo_id: todo_id, user_id: user_id, at: at}",
        "count": "length(events)",
        "complete": "meta.events.outcome == 'ok'",
        "reason": "meta.events.reason",
    },
    contract=ActivityFeed,
    timeout="5s",
)
handler = activity_feed.handler
