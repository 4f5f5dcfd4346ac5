"""What the digest action answers: who was mailed about which todos."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DigestItem(BaseModel):
    id: int = Field(description="The todo's id.")
    title: str = Field(description="What is to be done.")


class Notification(BaseModel):
    id: str = Field(description="The mail service's id for the message.")
    status: str = Field(description="The mail service's status, e.g. queued.")


class Digest(BaseModel):
    """The result of sending one user the digest of their open high-priority todos."""

    to: str = Field(description="The address the digest went to.")
    items: list[DigestItem] = Field(description="The todos the digest lists.")
    notification: Notification | None = Field(
        description="The sent message; null when there was nothing to send."
    )
