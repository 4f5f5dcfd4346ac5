"""A source named `input`, which would hide the invocation's input."""

from sff import Backend, Function

api = Backend("api", default="http://api.test")

bad_source_name = Function("bad_source_name", sources={"input": api.get("/users/1")})
