"""A query value that is not JMESPath."""

from sff import Backend, Function

api = Backend("api", default="http://api.test")

bad_expression = Function(
    "bad_expression",
    sources={"todos": api.get("/todos", query={"userId": "input.user_id ||"})},
)
