"""A function module shaped like the examples: input model, contract, fallback, handler."""

from pydantic import BaseModel

from sff import Backend, Fallback, Function

users = Backend("users", env="SFF_SCENARIO_USERS_API")
todos = Backend("todos", env="SFF_SCENARIO_TODOS_API")


class Query(BaseModel):
    user_id: int


class Todo(BaseModel):
    id: int
    title: str


class Dashboard(BaseModel):
    name: str
    team: str | None
    open_count: int
    open: list[Todo]


dashboard = Function(
    "dashboard",
    input=Query,
    sources={
        "user": users.get("/users/{input.user_id}"),
        "team": users.get("/teams/{user.team_id}", fallback=Fallback.omit()),
        "todos": todos.get("/todos", query={"userId": "input.user_id"}),
        "comments": todos.get("/todos/{item}/comments", each="todos[?!done] | [:5].id"),
    },
    shape="""{
        name: user.name, team: team.name,
        open_count: length(todos[?!done]),
        open: todos[?!done].{id: id, title: title}
    }""",
    contract=Dashboard,
)
handler = dashboard.handler
