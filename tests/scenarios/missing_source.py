"""`team` reads a source nobody declared."""

from sff import Backend, Function

api = Backend("api", default="http://api.test")

missing_source = Function(
    "missing_source",
    sources={
        "user": api.get("/users/{input.user_id}"),
        "team": api.get("/teams/{usr.team_id}"),
        "todos": api.get("/todos"),
    },
)
