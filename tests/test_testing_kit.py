"""The testing kit on the mistakes users make: a broken module under the matrix, inputs
with constraints, a contract stricter than the backend, and what a backend received."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from pydantic import RootModel  # noqa: F401  (imported before pytester snapshots sys.modules)

pytest_plugins = ["pytester"]
PLUGIN = ("-p", "no:cacheprovider")

SIGNUP = """
from pydantic import BaseModel, Field
from sff import Backend, Fallback, Function

accounts = Backend("accounts", env="ACCOUNTS_API", forward_headers=("authorization",))

class Signup(BaseModel):
    email: str = Field(pattern=r"^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$")
    name: str = Field(min_length=2, max_length=20)
    age: int = Field(ge=13, le=120)

class Account(BaseModel):
    id: int

class Welcome(BaseModel):
    id: int
    tips: list[str] | None

signup = Function(
    "signup",
    input=Signup,
    sources={
        "account": accounts.post(
            "/accounts",
            query={"source": "'web'"},
            body={"email": "input.email"},
            response=Account,
        ),
        "tips": accounts.get("/tips", fallback=Fallback.omit(), response=list[str]),
    },
    shape={"id": "account.id", "tips": "tips"},
    contract=Welcome,
)
"""

REVIEWS = """
from pydantic import BaseModel, Field
from sff import Backend, Function

catalog = Backend("catalog", env="CATALOG_API")

class Review(BaseModel):
    rating: int

class Shown(BaseModel):
    rating: int = Field(ge=1)

class Page(BaseModel):
    reviews: list[Shown]

page = Function(
    "page",
    sources={"reviews": catalog.get("/reviews", response=list[Review])},
    shape="{reviews: reviews[*].{rating: rating}}",
    contract=Page,
)
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> Iterator[pytest.Pytester]:
    pytester.makepyfile(**{"functions/__init__.py": "", "functions/signup.py": SIGNUP})
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.syspathinsert()
    forget()
    yield pytester
    forget()


def forget() -> None:
    for name in [m for m in sys.modules if m.split(".")[0] in ("functions", "contracts")]:
        del sys.modules[name]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*PLUGIN, *args)


def test_a_module_that_does_not_import_is_one_failing_matrix_test(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(**{"functions/broken.py": "from sff import Function\nx = (\n"})
    project.makeconftest("from sff.testing import degradation_matrix\ndegradation_matrix()")
    result = run(project, "-v")
    result.assert_outcomes(passed=2, failed=1)  # signup still runs: account, tips
    result.stdout.fnmatch_lines(
        [
            "*conftest.py::import?functions.broken? FAILED*",
            "*functions/broken.py:2 (functions.broken) failed to import:*",
            "*SyntaxError*",
        ]
    )


def test_generated_inputs_honour_pattern_lengths_and_bounds(project: pytest.Pytester) -> None:
    project.makeconftest("from sff.testing import degradation_matrix\ndegradation_matrix()")
    result = run(project, "-v")
    result.assert_outcomes(passed=2)  # not skipped: the input fits the pattern
    result.stdout.fnmatch_lines(["*degradation?signup:tips? PASSED*"])


def test_a_contract_stricter_than_the_backend_fails_the_property_test(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        **{
            "functions/reviews.py": REVIEWS,
            "tests/test_props.py": """
        from functions.reviews import page
        from sff.testing import property_test

        test_page = property_test(page, 50)
        test_page_accepting = property_test(page, 20, accept_mismatch=True)
        """,
        }
    )
    result = run(project)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*PropertyViolation: function 'page' answered 502 contract_mismatch on backend "
            "data its raw-data contracts allow*",
            "*the backends answered:*",
        ]
    )
    assert 'page.reviews: GET /reviews: [{"rating": 0}]' in result.stdout.str()


def test_without_raw_data_contracts_the_message_does_not_blame_them(
    project: pytest.Pytester,
) -> None:
    plain = REVIEWS.replace(", response=list[Review]", "")
    plain = plain.replace(
        'shape="{reviews: reviews[*].{rating: rating}}"', 'shape="{reviews: length(reviews.items)}"'
    )
    project.makepyfile(
        **{
            "functions/reviews.py": plain.replace("reviews: list[Shown]", "reviews: int"),
            "tests/test_props.py": """
        from functions.reviews import page
        from sff.testing import property_test

        test_page = property_test(page, 5)
        """,
        }
    )
    result = run(project)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "answered 502 expression_failed on backend data:" in out
    assert "raw-data contracts" not in out
    result.stdout.fnmatch_lines(["*the backends answered:*", "*page.reviews: GET /reviews: {}*"])


def test_what_a_backend_received_is_inspectable(project: pytest.Pytester) -> None:
    project.makepyfile(
        **{
            "tests/test_signup.py": """
        import json
        from functions.signup import signup

        def test_signup_posts_the_email(backends, sff_invoke):
            route = backends.accounts.post("/accounts").respond(json={"id": 7})
            backends.accounts.get("/tips").respond(json=["hi"])
            result = sff_invoke(signup, {"email": "ada@x.io", "name": "Ada", "age": 36},
                                headers={"authorization": "Bearer t"})
            assert result.status == 200
            sent = route.calls[0]
            assert sent.method == "POST" and sent.url.path == "/accounts"
            assert dict(sent.url.params) == {"source": "web"}
            assert sent.headers["authorization"] == "Bearer t"
            assert sent.headers["content-type"] == "application/json"
            assert json.loads(sent.content) == {"email": "ada@x.io"}
            tips = [r for r in backends.accounts.calls if r.url.path == "/tips"]
            assert len(tips) == 1 and tips[0].method == "GET"
        """
        }
    )
    run(project).assert_outcomes(passed=1)
