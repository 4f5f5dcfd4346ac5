"""Functions that one large input could once stall an instance with, and a /ping beside them.

``many`` fans out over the input's ids (200,000 of them in the benchmark: past `each`'s
max_items); ``big`` sorts and groups a 6 MB input (its input bounds raised so that it is parsed and
shaped, off the event loop); ``bounded`` is ``big`` with the default input bounds (a 413
before the body is parsed).
"""

from __future__ import annotations

from pydantic import BaseModel

from sff import Backend, Function


class Ids(BaseModel):
    ids: list[int]


api = Backend("api", env="BENCH_API")
ping = Function("ping", shape='`"pong"`')
many = Function(
    "many",
    method="POST",
    input=Ids,
    sources={"items": api.get("/users/{item}", each="input.ids")},
    shape="length(items)",
    timeout=2,
    max_input_values=10**6,
    max_input_bytes=8 * 1024 * 1024,
)
SHAPE = "{top: sort_by(rows, &score)[-5:].id, groups: keys(group_by(rows, 'group'))}"
big = Function(
    "big",
    method="POST",
    shape=SHAPE.replace("rows", "input.rows"),
    timeout=2,
    max_input_values=10**7,
    max_input_bytes=8 * 1024 * 1024,
)
bounded = Function("bounded", method="POST", shape=SHAPE.replace("rows", "input.rows"), timeout=2)


def asgi() -> object:
    from sff.adapters.asgi import app

    return app(ping, many, big, bounded)
