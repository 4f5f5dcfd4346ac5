"""a needs c, b needs a, c needs b: a cycle, rejected when declared."""

from sff import Backend, Function

api = Backend("api", default="http://api.test")

cycle = Function(
    "cycle",
    sources={
        "a": api.get("/a/{c.id}"),
        "b": api.get("/b/{a.id}"),
        "c": api.get("/c/{b.id}"),
        "free": api.get("/free"),
    },
)
