"""user -> (team, todos) -> summary: the classic diamond."""

from sff import Backend, Function

api = Backend("api", default="http://api.test")

diamond = Function(
    "diamond",
    sources={
        "user": api.get("/users/{input.user_id}"),
        "team": api.get("/teams/{user.team_id}"),
        "todos": api.get("/todos", query={"userId": "user.id"}),
        "summary": api.post("/summaries", body={"team": "team.id", "todos": "todos[*].id"}),
    },
    shape={"name": "user.name", "team": "team.name", "summary": "summary"},
)
