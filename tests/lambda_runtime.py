"""A local AWS Lambda Runtime API (2018-06-01) for tests, and a helper that lets the real
runtime interface client (awslambdaric) invoke a handler through it.

The server hands out each queued event once on `GET /runtime/invocation/next` and then
holds further polls open, as Lambda does between invocations; the helper kills the client
as soon as the answer (or an error) has been posted.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:{name}"


@dataclass(frozen=True)
class Outcome:
    kind: str  # "response", "error" or "init-error"
    request_id: str | None
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


class LambdaInvocationError(RuntimeError):
    def __init__(self, outcome: Outcome, log: str) -> None:
        self.outcome = outcome
        self.log = log
        detail = outcome.body.decode("utf-8", "replace")
        super().__init__(f"Lambda {outcome.kind}: {detail}\n--- runtime log ---\n{log[-3000:]}")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A killed runtime client resets its kept-alive connections; that is expected.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LambdaRuntimeServer:
    """Runtime API on 127.0.0.1 at a free port; `address` is AWS_LAMBDA_RUNTIME_API."""

    def __init__(self, function_name: str = "sff-test", timeout_s: float = 30.0) -> None:
        self.function_name = function_name
        self.timeout_s = timeout_s
        self.events: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.outcomes: queue.Queue[Outcome] = queue.Queue()
        self._closing = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{host!s}:{port}"

    def invoke(self, event: Any) -> str:
        request_id = str(uuid.uuid4())
        self.events.put((request_id, json.dumps(event).encode()))
        return request_id

    def __enter__(self) -> LambdaRuntimeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self) -> tuple[str, bytes] | None:
        while not self._closing.is_set():
            try:
                return self.events.get(timeout=0.1)
            except queue.Empty:
                continue
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _reply(
                self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    return self._reply(404, b'{"errorType":"NotFound"}')
                item = server._next()
                if item is None:
                    return self._reply(500, b'{"errorType":"ShuttingDown"}')
                request_id, body = item
                deadline_ms = int((time.time() + server.timeout_s) * 1000)
                self._reply(
                    200,
                    body,
                    {
                        "Content-Type": "application/json",
                        "Lambda-Runtime-Aws-Request-Id": request_id,
                        "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN.format(
                            name=server.function_name
                        ),
                        "Lambda-Runtime-Trace-Id": (
                            f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"
                        ),
                        # awslambdaric reads both; empty means "not a mobile-SDK call".
                        "Lambda-Runtime-Client-Context": "",
                        "Lambda-Runtime-Cognito-Identity": "",
                    },
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = self.path.removeprefix(PREFIX).strip("/").split("/")
                if parts == ["init", "error"]:
                    kind, request_id = "init-error", None
                elif (
                    len(parts) == 3
                    and parts[0] == "invocation"
                    and parts[2]
                    in (
                        "response",
                        "error",
                    )
                ):
                    kind, request_id = parts[2], parts[1]
                else:
                    return self._reply(404, b'{"errorType":"NotFound"}')
                server.outcomes.put(Outcome(kind, request_id, body, dict(self.headers.items())))
                self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})

        return Handler


def run_under_awslambdaric(
    handler: str,
    event: Any,
    *,
    cwd: str | os.PathLike[str],
    pythonpath: Iterable[str | os.PathLike[str]] = (),
    env: Mapping[str, str] | None = None,
    python: str = sys.executable,
    timeout_s: float = 60.0,
) -> Any:
    """Invoke `handler` ("functions.hello.handler") once through `python -m awslambdaric`
    started in `cwd` (the unzipped package: Lambda's task root), and return the parsed
    response; raise LambdaInvocationError with the error body and the client's log."""
    with LambdaRuntimeServer(timeout_s=timeout_s) as server, tempfile.TemporaryFile() as log:
        server.invoke(event)
        child_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_LAMBDA_RUNTIME_API": server.address,
            "AWS_LAMBDA_FUNCTION_NAME": server.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{server.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]local",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "LAMBDA_TASK_ROOT": str(Path(cwd).resolve()),
            "PYTHONDONTWRITEBYTECODE": "1",  # the real task root is read-only
        }
        paths = [str(Path(p).resolve()) for p in pythonpath]
        if paths:
            child_env["PYTHONPATH"] = os.pathsep.join(paths)
        child_env.update(env or {})
        process = subprocess.Popen(
            [python, "-m", "awslambdaric", handler],
            cwd=cwd,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            outcome = _wait(server, process, timeout_s)
        finally:
            process.kill()
            process.wait()
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
        if outcome is None:
            raise LambdaInvocationError(
                Outcome("exit", None, f"exit code {process.returncode}".encode(), {}), output
            )
        if outcome.kind != "response":
            raise LambdaInvocationError(outcome, output)
        return outcome.json()


def _wait(
    server: LambdaRuntimeServer, process: subprocess.Popen[bytes], timeout_s: float
) -> Outcome | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            return server.outcomes.get(timeout=0.05)
        except queue.Empty:
            if process.poll() is not None:
                # It may have posted just before exiting.
                try:
                    return server.outcomes.get(timeout=0.5)
                except queue.Empty:
                    return None
    raise TimeoutError(f"no answer from the runtime client within {timeout_s}s")
