"""Two instances are two processes sharing nothing but Redis: instance A caches a good
response from a real loopback backend; the backend dies; instance B answers with A's
copy, marked stale with its age, and once past `max_stale` answers 502 naming the source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from demo.backend import serve_in_thread
from tests.redis_server import RedisServer

INSTANCE = """
import json, os, sys
from sff import Backend, Fallback, Function

users = Backend("users", env="USERS_API", timeout=2)
profile = Function(
    "profile",
    sources={
        "user": users.get(
            "/users/{input.id}", fallback=Fallback.cache(max_stale=os.environ["MAX_STALE"])
        )
    },
    shape="{name: user.name, email: user.email}",
    timeout=5,
)
answer = profile.handler({"id": 1}, None)
json.dump(answer, sys.stdout)
"""


def run_instance(script: Path, backend: str, redis: str, max_stale: str = "1h") -> Any:
    env = {**os.environ, "USERS_API": backend, "SFF_CACHE_URL": redis, "MAX_STALE": max_stale}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_instance_b_serves_instance_a_copy_through_redis_after_the_backend_dies(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    script = tmp_path / "instance.py"
    script.write_text(INSTANCE)
    with serve_in_thread() as backend:
        first = run_instance(script, backend, redis_server.url)
    assert first["statusCode"] == 200 and "x-sff-degraded" not in first["headers"]
    time.sleep(1.2)  # the copy ages

    second = run_instance(script, backend, redis_server.url)
    assert second["statusCode"] == 200
    assert json.loads(second["body"]) == json.loads(first["body"])
    degraded = second["headers"]["x-sff-degraded"]
    name, reason, age = degraded.split(";")
    assert (name, reason) == ("user", "reason=cache")
    assert int(age.removeprefix("age=")) >= 1
    assert "user;dur=" in second["headers"]["server-timing"]

    too_old = run_instance(script, backend, redis_server.url, max_stale="1s")
    assert too_old["statusCode"] == 502
    error = json.loads(too_old["body"])["error"]
    assert error["source"] == "user" and "max_stale" in error["message"]
