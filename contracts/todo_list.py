"""What the todo list page receives: one page of filtered todos and how to page on."""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field

from contracts.common import TodoRow


class TodoPage(BaseModel):
    """A page of todos. ``pages`` and ``has_next`` are derived here, not by the shape."""

    items: list[TodoRow] = Field(description="The todos of this page, in id order.")
    total: int = Field(ge=0, description="Todos matching the filters, over all pages.")
    page: int = Field(ge=1, description="This page's number, from 1.")
    page_size: int = Field(ge=1, description="At most this many items per page.")

    @computed_field(description="How many pages the matches fill.")  # type: ignore[prop-decorator]
    @property
    def pages(self) -> int:
        return -(-self.total // self.page_size)

    @computed_field(description="Whether a later page exists.")  # type: ignore[prop-decorator]
    @property
    def has_next(self) -> bool:
        return self.page < self.pages
