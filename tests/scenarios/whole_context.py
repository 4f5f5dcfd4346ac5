"""A shape that reads `@`, the whole context, instead of naming its sources."""

from sff import Backend, Function

api = Backend("api", default="http://api.test")

whole_context = Function(
    "whole_context",
    sources={"user": api.get("/users/1")},
    shape="length(@)",
)
