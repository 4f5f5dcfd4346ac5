"""Cold start is the product: importing a function module loads only the authoring core,
and an invocation loads only what it runs. Checked in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

TOOLING = [
    "sff.cli",
    "sff.testing",
    "sff.package",
    "sff.packaging",
    "sff.serve",
    "redis",
    "sqlite3",
]
"""What no invocation needs: developer tooling and cache stores nobody declared."""

EXECUTOR = ["sff.run", "sff.http.fetch", "sff.resilience", "httpx", "tenacity", "asyncio"]
"""Needed to invoke, not to declare: importing stays pure and cheap."""

HTTPX = ["httpx", "httpcore", "http.cookiejar", "urllib.request", "brotli", "zstandard"]
"""httpx and what its import brings (~20 ms of a cold start): a plain-http invocation
sends on sff's own wire and never loads them (`sff.http.client`)."""

PLAIN_HTTP_INVOCATION = (
    "import os\n"
    "from demo.backend import serve_in_thread\n"
    "with serve_in_thread() as url:\n"
    "    os.environ['SFF_SCENARIO_USERS_API'] = url\n"
    "    os.environ['SFF_SCENARIO_TODOS_API'] = url\n"
    "    import tests.scenarios.example_like as m\n"
    "    answer = m.handler({'user_id': 1}, None)\n"
    "    assert answer['statusCode'] == 200, answer\n"
)


def modules_after(code: str) -> set[str]:
    loaded: list[str] = last_json(f"{code}\nprint(json.dumps(sorted(sys.modules)))")
    return set(loaded)


def last_json(code: str) -> Any:
    """The JSON printed last by ``code``, run in a fresh interpreter (``sys`` and ``json``
    imported)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFF_SCENARIO_")}
    done = subprocess.run(
        [sys.executable, "-c", f"import sys, json\n{code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_sff_loads_no_tooling_and_no_executor() -> None:
    loaded = modules_after("import sff")
    assert loaded & {*TOOLING, *EXECUTOR, "click", "rich"} == set()


def test_declaring_a_function_module_loads_no_tooling_and_no_executor() -> None:
    loaded = modules_after("import tests.scenarios.example_like")
    assert "tests.scenarios.example_like" in loaded
    assert loaded & {*TOOLING, *EXECUTOR, "click", "rich"} == set()


def test_invoking_the_handler_loads_no_tooling() -> None:
    # No backend URL is set, so the invocation answers 500 misconfigured without any network.
    loaded = modules_after(
        "import tests.scenarios.example_like as m\n"
        "answer = m.handler({'user_id': 1}, None)\n"
        "assert answer['statusCode'] == 500, answer"
    )
    assert "sff.run" in loaded
    assert loaded & {*TOOLING, *HTTPX} == set()


def test_a_successful_invocation_over_plain_http_loads_no_retry_machinery() -> None:
    # A real loopback backend answers every source: nothing fails, so nothing retries,
    # and a plain-http backend needs neither httpcore nor tenacity.
    loaded = modules_after(PLAIN_HTTP_INVOCATION)
    assert {"sff.run", "sff.http.fetch", "sff.http.lean", "httptools"} <= loaded
    assert loaded & {"tenacity", "httpcore", *TOOLING} == set()
    # h11 is the testing kit's (and httpcore's); redirects and the https pool load on demand
    assert loaded & {"h11", "sff.http.redirect", "sff.http.pool", "sff.testing.wire"} == set()
    # pydantic builds its RootModel class only for someone who uses it (sff asks
    # sys.modules); no thread pool before a large shape or a sync handler in a running loop
    assert loaded & {"pydantic.root_model", "concurrent.futures.thread"} == set()


def test_a_plain_http_invocation_loads_no_httpx() -> None:
    # The same real loopback invocation: the lean send on sff's own pool and wire, with
    # its own exception types; httpx's client is never built, so httpx is never imported.
    # (email still is: pydantic's plugin loader imports importlib.metadata.)
    loaded = modules_after(PLAIN_HTTP_INVOCATION)
    assert {"sff.http.client", "sff.http.streams", "sff.http.wire"} <= loaded
    assert loaded & {*HTTPX, "sff.http._httpx", "sff.http.transport", "sff.http.hxclient"} == set()


def test_a_plain_http_source_with_a_cache_fallback_loads_no_httpx() -> None:
    # The copy's key is made from the lean request (the same key httpx's would make).
    loaded = modules_after(
        "import os\n"
        "from demo.backend import serve_in_thread\n"
        "from sff import Backend, Fallback, Function\n"
        "from sff.fallback import SourceCache\n"
        "keyed, real = [], SourceCache.http_key\n"
        "SourceCache.http_key = lambda s, n, r: keyed.append(type(r).__name__) or real(s, n, r)\n"
        "os.environ['SFF_CACHE_URL'] = 'memory://'\n"
        "with serve_in_thread() as url:\n"
        "    api = Backend('api', default=url)\n"
        "    fn = Function('f', sources={'u': api.get('/users/1', fallback=Fallback.cache())})\n"
        "    answer = fn.handler({}, None)\n"
        "    assert answer['statusCode'] == 200, answer\n"
        "assert keyed == ['LeanRequest'], keyed\n"
    )
    assert loaded & {*HTTPX, "sff.http._httpx"} == set()


def test_httpx_still_loads_for_a_request_the_lean_send_leaves_to_it() -> None:
    # The guard above can fail: a backend that follows redirects is sent by httpx, over
    # the same loopback server, on httpx's half of the same client.
    loaded = modules_after(
        "from demo.backend import serve_in_thread\n"
        "from sff import Backend, Function\n"
        "with serve_in_thread() as url:\n"
        "    api = Backend('api', default=url, follow_redirects=True)\n"
        "    fn = Function('f', sources={'user': api.get('/users/1')})\n"
        "    answer = fn.handler({}, None)\n"
        "    assert answer['statusCode'] == 200, answer\n"
    )
    assert {"httpx", "sff.http.transport", "sff.http.hxclient"} <= loaded
    assert "httpcore" not in loaded  # plain http: httpx's client on sff's wire


def test_the_lazy_imports_still_load_when_needed() -> None:
    # The guard above can fail: a RootModel contract and a large shape load them.
    loaded = modules_after(
        "import asyncio\n"
        "from pydantic import RootModel\n"
        "from sff.typeinfo import alternatives\n"
        "class Ids(RootModel[list[int]]):\n"
        "    pass\n"
        "assert alternatives(Ids) == [list[int]]\n"
        "from sff import bounded\n"
        "bounded.executor()\n"
    )
    assert {"pydantic.root_model", "concurrent.futures.thread"} <= loaded


def test_tracing_off_loads_no_opentelemetry() -> None:
    # Off by default: an invocation reads the switch (a few os.environ lookups) and
    # imports nothing of the [otel] extra, not even the API package.
    loaded = modules_after(
        "import os\n"
        "for k in [k for k in os.environ if k.startswith(('OTEL_', 'SFF_OTEL'))]:\n"
        "    del os.environ[k]\n"
        "import tests.scenarios.example_like as m\n"
        "answer = m.handler({'user_id': 1}, None)\n"
        "assert answer['statusCode'] == 500, answer\n"
    )
    assert "sff.tracing" in loaded
    assert {
        m for m in loaded if m.startswith(("opentelemetry", "google.protobuf", "sff.otel"))
    } == set()


def test_tracing_on_loads_the_sdk_only_then() -> None:
    # The guard above can fail: the same invocation with SFF_OTEL=1 loads the SDK.
    loaded = modules_after(
        "import os\n"
        "os.environ['SFF_OTEL'] = '1'\n"
        "os.environ['OTEL_EXPORTER_OTLP_ENDPOINT'] = 'http://127.0.0.1:9'\n"
        "os.environ['SFF_OTEL_FLUSH_MS'] = '0'\n"
        "import tests.scenarios.example_like as m\n"
        "answer = m.handler({'user_id': 1}, None)\n"
        "assert answer['statusCode'] == 500, answer\n"
    )
    assert {"sff.otel.spans", "opentelemetry.sdk.trace"} <= loaded


def test_field_checks_load_their_error_helpers_only_on_an_error() -> None:
    # Every declaration is checked against its models; carets, line lookup and
    # did-you-mean are built only when a check fails.
    loaded = modules_after("import tests.scenarios.example_like")
    assert {"sff.fields", "sff.typeinfo"} <= loaded
    assert loaded & {"sff.location", "sff.positions", "difflib"} == set()


RARE = ["sff.batch", "sff.batched", "sff.paginate", "sff.pages", "sff.variables", "sff.failures"]
"""Loaded only by a function that declares `batch=`/`paginate=`, by `sff check --env`, or
by a failed invocation (`sff.failures`)."""


def test_a_plain_invocation_loads_no_rare_path_module() -> None:
    # no batch=, no paginate=, no error: what only those need stays unloaded, and the
    # redaction and to_number patterns (compiled on first use) are never compiled
    loaded = modules_after(
        PLAIN_HTTP_INVOCATION + "from sff import _jmes_functions, secrets\n"
        "assert secrets._patterns.cache_info().currsize == 0\n"
        "assert _jmes_functions._json_number.cache_info().currsize == 0\n"
    )
    assert "sff.run" in loaded
    assert loaded & set(RARE) == set()


def test_the_lazy_exports_still_resolve() -> None:
    # The guard above can fail: `from sff import Batch, Paginate` loads them.
    loaded = modules_after("from sff import Batch, Paginate\nassert Batch and Paginate\n")
    assert {"sff.batch", "sff.paginate"} <= loaded


def test_etag_and_fallback_load_no_hashlib() -> None:
    # the ETag's BLAKE2b comes from _blake2, without hashlib's OpenSSL bindings
    loaded = modules_after(
        "import sff.answer, sff.fallback\nassert sff.answer.etag(b'x').startswith('\"')\n"
    )
    assert loaded & {"hashlib", "_hashlib"} == set()
    import hashlib

    from sff import answer

    assert answer.etag(b"x") == f'"{hashlib.blake2b(b"x", digest_size=16).hexdigest()}"'


def test_the_handler_path_declares_no_classes_by_compiling_code() -> None:
    # sff's classes there are `sff._record.record`s, whose declaration compiles no code
    # (`@dataclass` exec()s its methods' source, code that says it comes from '<string>':
    # ~0.5 ms a class), or plain classes
    found = last_json(
        PLAIN_HTTP_INVOCATION + "import dataclasses\n"
        "def compiled(c):\n"
        "    return c.__init__.__code__.co_filename == '<string>'\n"
        "@dataclasses.dataclass\n"
        "class Probe:\n"
        "    x: int\n"
        "print(json.dumps({'probe': compiled(Probe), 'classes': [\n"
        "    f'{c.__module__}.{c.__qualname__}'\n"
        "    for name, mod in list(sys.modules.items()) if name.split('.')[0] == 'sff'\n"
        "    for c in vars(mod).values()\n"
        "    if isinstance(c, type) and c.__module__ == name and dataclasses.is_dataclass(c)\n"
        "    and compiled(c)\n"
        "]}))\n"
    )
    assert found["probe"]  # the check does see a class @dataclass compiled
    assert found["classes"] == []
