"""Service orchestration: compose `dashboard`, then e-mail the user their high-priority todos.

`send_email` stands in for an e-mail SDK: any async callable can be a source via `call`.
"""

from __future__ import annotations

import os
import ssl
from functools import cache
from typing import Any

import httpx
from pydantic import BaseModel, Field

from contracts.send_digest import Digest
from functions.dashboard import dashboard
from sff import Function, call


@cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle costs tens of ms: once per instance, not once per e-mail.
    return httpx.create_ssl_context()


async def send_email(to: str, subject: str, body: str) -> Any:
    """Queue one e-mail with the mail service ($MAIL_API, else the todos API's host)."""
    base = os.environ.get("MAIL_API") or os.environ["TODOS_API"]
    client = httpx.AsyncClient(base_url=base, timeout=2.0, verify=_tls(), trust_env=False)
    async with client:
        response = await client.post(
            "/notifications", json={"to": to, "subject": subject, "body": body}
        )
        response.raise_for_status()
        return response.json()


class DigestQuery(BaseModel):
    user_id: int = Field(ge=1, description="Whom to send the digest to.")


URGENT = "board.open[?priority == 'high']"

send_digest = Function(
    "send_digest",
    description="E-mail a user the digest of their open high-priority todos.",
    input=DigestQuery,
    method="POST",
    sources={
        "board": call(dashboard, {"user_id": "input.user_id"}),
        "mail": call(
            send_email,
            {
                "to": "board.user.email",
                "subject": f"join('', ['You have ', to_string(length({URGENT})), "
                "' high-priority todos'])",
                "body": f"join(`\"\\n\"`, {URGENT}.join('', ['- ', title, ' (due ', due, ')']))",
            },
            when=f"length({URGENT}) > `0`",
            timeout="3s",
        ),
    },
    shape={
        "to": "board.user.email",
        "items": f"{URGENT}.{{id: id, title: title}}",
        "notification": "mail && pick(mail, ['id', 'status'])",
    },
    contract=Digest,
    timeout="8s",
)
handler = send_digest.handler
