"""Cold start: `import sff` loads no adapter, and a handler loads only its platform's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "events"
HEAVY = ["flask", "werkzeug", "uvicorn", "starlette", "functions_framework"]
ADAPTERS = ["aws_lambda", "aliyun_fc", "gcp", "asgi", "direct"]

SCRIPT = """
import json, sys
import sff
before = sorted(m for m in sys.modules if m.startswith("sff.adapters"))
fn = sff.Function("noop", route=ROUTE)  # these triggers do no routing: sff matches it
answer = fn.handler(EVENT, None)
after = sorted(m for m in sys.modules if m.startswith("sff.adapters"))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
status = answer["statusCode"]
print(json.dumps({"before": before, "after": after, "heavy": heavy, "status": status}))
"""


def loaded_by(event: object, route: str = "/noop") -> dict[str, Any]:
    code = f"EVENT = {event!r}\nHEAVY = {HEAVY!r}\nROUTE = {route!r}\n" + SCRIPT
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def platform_modules(names: list[str]) -> set[str]:
    return {n.rsplit(".", 1)[-1] for n in names} & set(ADAPTERS)


def test_lambda_event_loads_only_the_lambda_adapter_and_nothing_heavy() -> None:
    event = json.loads((EVENTS / "aws_lambdaFunctionUrlEvent.json").read_text())
    event["rawPath"] = "/noop"

    loaded = loaded_by(event)

    assert loaded["before"] == []
    assert loaded["status"] == 200
    assert platform_modules(loaded["after"]) == {"aws_lambda"}
    assert loaded["heavy"] == []


def test_fc_event_as_bytes_loads_only_the_fc_adapter() -> None:
    event = (EVENTS / "fc3_httpTrigger_docs_example.json").read_bytes()

    loaded = loaded_by(event, route="/example")  # the docs example's rawPath

    assert loaded["status"] == 200
    assert platform_modules(loaded["after"]) == {"aliyun_fc"}
    assert loaded["heavy"] == []


def test_direct_event_loads_only_the_direct_adapter() -> None:
    loaded = loaded_by({"any": "input"})

    assert platform_modules(loaded["after"]) == {"direct"}
