"""Field paths checked against the models at declaration: the input model, `response=`
models, `item` of `each`, `meta`, and the shape against the contract. Where nothing is
known (no `response=`), nothing is claimed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field, RootModel, computed_field

from sff import Backend, DeclarationError, ExpressionError, Fallback, Function, call
from sff.cli import main

api = Backend("api", default="http://api.test")


class Query(BaseModel):
    product_id: int
    lang: str = "en"


class Author(BaseModel):
    name: str


class Review(BaseModel):
    author: Author | None = None
    rating: int


class Product(BaseModel):
    id: int
    name: str
    tags: list[str] = []


class Page(BaseModel):
    name: str
    count: int


class Shown(BaseModel):
    who: str
    stars: int


class Reviews(BaseModel):
    name: str
    reviews: list[Shown]


SOURCES = {
    "product": api.get("/products/{input.product_id}", response=Product),
    "reviews": api.get("/reviews", response=list[Review], fallback=Fallback.value([])),
}


def declare(**kw: object) -> Function:
    return Function("f", input=Query, **kw)  # type: ignore[arg-type]


def test_a_misspelt_input_field_in_a_path_has_a_caret_and_a_did_you_mean() -> None:
    with pytest.raises(ExpressionError) as caught:
        declare(sources={"product": api.get("/products/{input.productId}")})
    text = caught.value.message
    assert "function 'f', source 'product' path: no field 'productId' in model Query" in text
    assert "did you mean 'product_id'?" in text
    assert text.endswith("\n    /products/{input.productId}\n" + " " * (4 + 17) + "^")


def test_a_misspelt_response_field_in_the_shape() -> None:
    with pytest.raises(ExpressionError) as caught:
        declare(sources=SOURCES, shape={"name": "product.nmae", "count": "length(reviews)"})
    assert "shape.name: no field 'nmae' in model Product; did you mean 'name'?" in str(caught.value)
    assert caught.value.detail["column"] == 8


def test_item_is_the_element_of_each() -> None:
    with pytest.raises(ExpressionError, match="no field 'nme' in model Author"):
        declare(sources={**SOURCES, "a": api.get("/a/{item.nme}", each="reviews[*].author")})
    declare(sources={**SOURCES, "a": api.get("/a/{item.name}", each="reviews[*].author")})


def test_a_wrong_name_inside_each() -> None:
    with pytest.raises(ExpressionError, match="source 'a' each: no field 'nam' in model Author"):
        declare(sources={**SOURCES, "a": api.get("/a/{item}", each="reviews[*].author.nam")})


def test_query_headers_body_when_identity_and_args_are_checked() -> None:
    places = {
        "query": {"query": {"q": "input.langg"}},
        "headers": {"headers": {"x-lang": "input.langg"}},
        "body": {"body": {"lang": "input.langg"}},
        "when": {"when": "input.langg"},
        "identity": {"identity": "input.langg"},
    }
    for place, options in places.items():
        with pytest.raises(ExpressionError, match=f"source 'x' {place}.*'langg'"):
            declare(sources={"x": api.post("/x", **options)})  # type: ignore[arg-type]

    async def mailer(**kwargs: object) -> None:
        return None

    with pytest.raises(ExpressionError, match=r"source 'm' args\.to: no field 'langg'"):
        declare(sources={"m": call(mailer, args={"to": "input.langg"})})


def test_without_a_response_model_nothing_is_claimed() -> None:
    declare(sources={"user": api.get("/u")}, shape={"n": "user.anything.at.all"})


def test_a_model_that_allows_extra_keys_claims_nothing_either() -> None:
    class Open(BaseModel):
        model_config = ConfigDict(extra="allow")
        id: int

    declare(sources={"o": api.get("/o", response=Open)}, shape={"n": "o.whatever"})


def test_aliases_and_computed_fields_are_fields() -> None:
    class Aliased(BaseModel):
        user_id: int = Field(alias="userId")

        @computed_field  # type: ignore[prop-decorator]
        @property
        def double(self) -> int:
            return self.user_id * 2

    Function("f", input=Aliased, sources={"a": api.get("/a/{input.userId}/{input.double}")})


def test_a_field_read_from_an_array_says_how_to_project() -> None:
    with pytest.raises(ExpressionError, match=r"read from an array .*write `\[\*\]\.rating`"):
        declare(sources=SOURCES, shape={"name": "product.name", "count": "reviews.rating"})


def test_functions_with_expression_references_check_the_element() -> None:
    for text in ("sort_by(reviews, &ratin)", "index_by(reviews, 'ratin')", "reviews[?ratin]"):
        with pytest.raises(ExpressionError, match="no field 'ratin' in model Review"):
            declare(sources=SOURCES, shape={"x": text})


def test_shape_keys_are_held_against_the_contract() -> None:
    with pytest.raises(DeclarationError, match="shape key 'extra' is not a field of contract"):
        declare(
            sources=SOURCES,
            shape={"name": "product.name", "count": "`1`", "extra": "product.id"},
            contract=Page,
        )
    with pytest.raises(DeclarationError, match="requires field 'count', which the shape never"):
        declare(sources=SOURCES, shape={"name": "product.name"}, contract=Page)


def test_a_value_of_the_wrong_kind_for_the_contract() -> None:
    with pytest.raises(ExpressionError, match="expects str here, the shape gives int"):
        declare(sources=SOURCES, shape={"name": "product.id", "count": "`1`"}, contract=Page)
    with pytest.raises(ExpressionError, match="expects str here, the shape gives list"):
        declare(sources=SOURCES, shape={"name": "product.tags", "count": "`1`"}, contract=Page)


def test_a_string_shape_is_held_against_the_contract_key_by_key() -> None:
    good = "{name: product.name, reviews: reviews[*].{who: author.name, stars: rating}}"
    declare(sources=SOURCES, shape=good, contract=Reviews)
    with pytest.raises(ExpressionError) as caught:
        declare(sources=SOURCES, shape=good.replace("stars:", "star:"), contract=Reviews)
    text = caught.value.message
    assert "shape key 'star' is not a field of contract model Shown; did you mean 'stars'?" in text
    assert caught.value.detail["column"] == good.index("stars")


def test_the_caret_of_a_multi_line_shape_sits_under_its_line() -> None:
    shape = "{\n    name: product.nmae,\n    count: length(reviews)\n}"
    with pytest.raises(ExpressionError) as caught:
        declare(sources=SOURCES, shape=shape, contract=Page)
    assert caught.value.message.endswith("\n    name: product.nmae,\n                  ^")


PROJECT = '''\
from pydantic import BaseModel
from sff import Backend, Function

api = Backend("api", env="API")

class Query(BaseModel):
    product_id: int

class Product(BaseModel):
    name: str

page = Function(
    "page",
    input=Query,
    sources={
        "product": api.get("/p/{input.product_id}", response=Product),
        "other": api.get("/o/{input.productId}"),
    },
    shape="""{
        name: product.name,
        title: product.nmae
    }""",
)
'''


def project(tmp_path: Path, text: str) -> Path:
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "__init__.py").write_text("")
    (tmp_path / "functions" / "page.py").write_text(text)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    return tmp_path


@pytest.mark.parametrize(
    ("fix", "line", "shown"),
    [
        ("", 17, "{input.productId}"),  # the source's line, not `Function(`
        ("input.productId", 21, "title: product.nmae"),  # the shape's line inside the string
    ],
)
def test_sff_check_points_at_the_line_of_the_offending_entry(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fix: str,
    line: int,
    shown: str,
) -> None:
    text = PROJECT.replace(fix, "input.product_id") if fix else PROJECT
    monkeypatch.chdir(project(tmp_path, text))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  functions/page.py:{line} (functions.page)" in out
    assert shown in out and "did you mean" in out and "^" in out


def test_a_root_model_is_read_as_its_root() -> None:
    class Reviewed(RootModel[list[Review]]):
        pass

    sources = {"r": api.get("/r", response=Reviewed)}
    declare(sources=sources, shape={"n": "length(r[?rating > `3`])", "first": "r[0].rating"})
    with pytest.raises(ExpressionError, match="no field 'ratng' in model Review"):
        declare(sources=sources, shape={"first": "r[0].ratng"})
