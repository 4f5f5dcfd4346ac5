"""`sff new NAME`: a new project with one function, its contract and a passing test."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from sff import distribution


class ScaffoldError(Exception):
    """The project cannot be created where asked (a user error)."""


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "0.1.0"
description = "Orchestration functions for the {name} frontend."
requires-python = ">=3.11"
dependencies = ["{requirement}"]

[project.optional-dependencies]
test = ["{requirement}[testing]"]

[tool.setuptools.packages.find]
include = ["functions*", "contracts*"]

[tool.sff]
functions = "functions"

[tool.pytest.ini_options]
pythonpath = ["."]
testpaths = ["tests"]
"""

HELLO_FUNCTION = '''\
"""hello: fetch a user from the users API and greet them."""

from pydantic import BaseModel, Field

from contracts.hello import Greeting, Post, User
from sff import Backend, Fallback, Function

# The base URL is read from $HELLO_API each time the function runs.
api = Backend("api", env="HELLO_API", timeout="2s")


class HelloInput(BaseModel):
    user_id: int = Field(ge=1, description="Whom to greet.")


hello = Function(
    "hello",
    description="Greets a user by name.",
    input=HelloInput,
    sources={
        "user": api.get("/users/{input.user_id}", response=User),
        # Optional: if it fails, the greeting still answers, with no posts.
        "posts": api.get(
            "/posts",
            query={"userId": "input.user_id"},
            fallback=Fallback.value([]),
            response=list[Post],
        ),
    },
    shape={
        "greeting": "join('', ['Hello, ', user.name, '!'])",
        "email": "user.email",
        "posts": "length(posts)",
    },
    contract=Greeting,
    timeout="5s",
)
handler = hello.handler  # the FaaS entry point: handler(event, context)
'''

HELLO_CONTRACT = '''\
"""What the frontend receives from `hello`, and what its backend returns."""

from pydantic import BaseModel, Field


class Greeting(BaseModel):
    greeting: str = Field(description="Ready to display, e.g. 'Hello, Ada!'.")
    email: str = Field(description="The user's e-mail address.")
    posts: int = Field(description="How many posts the user wrote (0 when unknown).")


# Raw-data contracts: what the users API returns. sff checks the expressions against them
# when the function is declared, and the test kit generates backend answers from them.
class User(BaseModel):
    id: int
    name: str
    email: str


class Post(BaseModel):
    id: int
'''

HELLO_TEST = '''\
"""hello against mocked backends (the sff testing kit): no network needed."""

import json

from functions.hello import hello


def test_hello_greets_the_user_by_name(backends, sff_invoke):
    backends.api.get("/users/1").respond(json={"id": 1, "name": "Ada", "email": "ada@x.test"})
    posts = backends.api.get("/posts").respond(json=[{"id": 7}])

    result = sff_invoke(hello, {"user_id": 1})

    assert result.status == 200
    assert result.json() == {"greeting": "Hello, Ada!", "email": "ada@x.test", "posts": 1}
    sent = posts.calls[0]  # what the backend received: method, path, query, headers, body
    assert (sent.method, sent.url.path, dict(sent.url.params)) == ("GET", "/posts", {"userId": "1"})
    assert sent.content == b""  # a GET sends no body; a POST's would be json.loads(sent.content)


def test_hello_still_answers_when_posts_fail(backends, sff_invoke):
    backends.api.get("/users/1").respond(json={"id": 1, "name": "Ada", "email": "ada@x.test"})
    backends.api.get("/posts").fail(503)

    result = sff_invoke(hello, {"user_id": 1})

    assert result.status == 200 and result.json()["posts"] == 0
    assert result.meta.degraded == ["posts"]


def test_hello_fails_with_502_when_the_user_is_missing(backends, sff_invoke):
    backends.api.get("/users/1").respond(404, json={"error": "not found"})
    backends.api.get("/posts").respond(json=[])

    error = sff_invoke(hello, {"user_id": 1})

    assert (error.status, error.code, error.source) == (502, "source_failed", "user")


def test_hello_rejects_a_user_id_below_one(backends, sff_invoke):
    error = sff_invoke(hello, {"user_id": 0})

    assert (error.status, error.detail["field"]) == (400, "user_id")
    assert json.loads(json.dumps(error.to_dict()))["error"]["code"] == "invalid_input"
'''

CONFTEST = """\
# Every function, each source failing alone and all optional ones together: one test per case.
from sff.testing import degradation_matrix

degradation_matrix()
"""

README = """\
# {name}

Orchestration functions for the {name} frontend, built with sff (distribution
`{requirement}`; the import package and the command are `sff`).

```bash
{install}
sff check                      # every function declared correctly?
sff list                       # routes, sources and the inferred plan
HELLO_API=https://users.example.com sff invoke hello --input '{{"user_id": 1}}' --meta
python -m pytest               # tests run against mocked backends
```

The first line installs this project with its test tools. While `{requirement}` is not
on the package index it names the sff checkout to install it from, in the same pip
command, so pip resolves the dependency to that checkout and never to another project.

- `functions/`: one module per orchestration function.
- `contracts/`: pydantic models, what the frontend receives.
- `tests/`: tests against backends mocked by name (`backends.api.get(...)`), and the
  degradation matrix in `tests/conftest.py`; no network needed.
"""


def install_command(source: Path | None = None) -> str:
    """The one command that installs a new project with its test extra. Until sff is on the
    package index, pip takes it from the local checkout named in the same command."""
    checkout = source if source is not None else distribution.checkout()
    if checkout is None:  # sff itself came from an index or a wheel: so does the project's
        return 'pip install -e ".[test]"'
    return f'pip install -e {shlex.quote(str(checkout))} -e ".[test]"'


def files(name: str, source: Path | None = None) -> dict[str, str]:
    """Relative path -> content of a new project called ``name``; ``source`` is the sff
    checkout its install command names (default: the one this sff runs from)."""
    requirement = distribution.NAME
    install = install_command(source)
    return {
        "pyproject.toml": PYPROJECT.format(name=name, requirement=requirement),
        "README.md": README.format(name=name, requirement=requirement, install=install),
        "functions/__init__.py": "",
        "functions/hello.py": HELLO_FUNCTION,
        "contracts/__init__.py": "",
        "contracts/hello.py": HELLO_CONTRACT,
        "tests/__init__.py": "",
        "tests/test_hello.py": HELLO_TEST,
        "tests/conftest.py": CONFTEST,
    }


def create_project(target: Path) -> list[Path]:
    """Write a new project into ``target`` (absent or empty); returns the files written."""
    name = target.resolve().name
    if not _NAME.match(name):
        raise ScaffoldError(
            f"project name {name!r}: use letters, digits, '-', '_' or '.', starting with a letter"
        )
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not empty; choose another name")
    written = []
    for relative, content in files(name).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
