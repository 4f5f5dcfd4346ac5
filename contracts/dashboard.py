"""What the home page receives: the user, their team and their open todos."""

from __future__ import annotations

from pydantic import BaseModel, Field

from contracts.common import TodoRow


class UserCard(BaseModel):
    id: int = Field(description="The user's id.")
    name: str = Field(description="Full name.")
    email: str = Field(description="Where notifications go.")
    avatar_url: str | None = Field(None, description="Avatar image URL.")


class TeamCard(BaseModel):
    id: int = Field(description="The team's id.")
    name: str = Field(description="Team name.")
    members: int = Field(description="How many people the team has (0 when unknown).")


class Dashboard(BaseModel):
    """The signed-in user's home page."""

    user: UserCard = Field(description="Who is signed in.")
    team: TeamCard = Field(description="The user's team.")
    open_count: int = Field(description="Open todos of the user.")
    done_count: int = Field(description="Finished todos of the user.")
    open: list[TodoRow] = Field(description="The user's open todos, soonest due first.")
