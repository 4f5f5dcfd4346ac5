"""`item` used by a source that has no `each`."""

from sff import Backend, Function

api = Backend("api", default="http://api.test")

item_outside_each = Function(
    "item_outside_each",
    sources={"comments": api.get("/todos/{item}/comments")},
)
