"""One invocation of a 1,000-item `each` fan-out (cap 100), then the peak RSS."""

from __future__ import annotations

import sys

from pydantic import BaseModel

from benchmarks.apps._peak import peak_kib
from sff import Backend, Function


class Items(BaseModel):
    ids: list[int]


api = Backend("api", env="BENCH_API", max_connections=100)
each = Function(
    "each",
    input=Items,
    sources={"items": api.get("/users/1", query={"k": "item"}, each="input.ids", concurrency=100)},
    shape="length(items)",
)

if __name__ == "__main__":
    n = int(sys.argv[1])
    assert each.run({"ids": list(range(n))}).data == n
    print(peak_kib())
