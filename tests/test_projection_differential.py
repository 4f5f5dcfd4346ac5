"""Projection pushdown changes nothing: random documents and random expressions give the same
answer (or the same failure) over the projected decode as over the full parse.

The expressions are the JMESPath fuzzer's grammar (`test_jmes_fuzz`), run over a source
``s`` of a declared function; the document is parsed the way a backend's body is
(`parse_json`), once whole and once into what `sff.projection` says the function reads.
A planted mistake in the analysis is caught by the same property.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis import strategies as st

from sff import Backend, ExpressionError, Function
from sff import projection as pj
from sff.errors import SffError
from sff.http import response
from sff.http.projected import MISS, Projected, for_demand
from sff.http.response import parse_json
from sff.reads import reads
from tests.test_jmes_fuzz import _LITERALS, _NAMES, _grow
from tests.test_jmes_fuzz import EXPRESSIONS as LARGER

# small expressions, mostly: a mistake shows on a short one over a document that has it
EXPRESSIONS = st.recursive(st.sampled_from([*_NAMES, "@", *_LITERALS]), _grow, max_leaves=3)
SHORT = st.recursive(st.sampled_from([*_NAMES, "@"]), _grow, max_leaves=2)
_ON = st.sampled_from(["@", *_NAMES])
_KEY = st.sampled_from(_NAMES)
# the keyed functions with literal keys (what `sff.projection` reads precisely) and
# filters comparing fields, grown a little
KEYED = st.recursive(
    st.tuples(st.sampled_from(["index_by", "group_by"]), _ON, _KEY).map(
        lambda t: f"{t[0]}({t[1]}, '{t[2]}')"
    )
    | st.tuples(_ON, _ON, _KEY, _KEY, _KEY).map(
        lambda t: f"join_on({t[0]}, {t[1]}, '{t[2]}', '{t[3]}', '{t[4]}')"
    )
    | st.tuples(_ON, _KEY).map(lambda t: f"pick({t[0]}, ['{t[1]}', 'd'])")
    # filters that compare fields, the commonest shape of all
    | st.tuples(_ON, _KEY, _KEY | st.sampled_from(["'x'", "`1`", "`null`"]), _KEY).map(
        lambda t: f"{t[0]}[?{t[1]} == {t[2]}].{t[3]}"
    ),
    _grow,
    max_leaves=2,
)
_KEYS = [*_NAMES, "d", "d", "é"]  # d and é are never named by an expression: always pruned
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([0, -1, 10**400, "\ud800", "x\udc00y"])  # msgspec refuses these two
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=4)
)
DOCS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(_KEYS), inner),
    max_leaves=25,
)
# arrays of records whose keys join (index_by, group_by, join_on meet on equal values)
_RECORD = st.dictionaries(
    st.sampled_from(_KEYS), st.sampled_from(["x", "y", 1, 2]) | DOCS, min_size=1, max_size=4
)
DOCS = DOCS | st.lists(_RECORD, max_size=4) | st.dictionaries(
    st.sampled_from(_NAMES), st.lists(_RECORD, max_size=4), max_size=2
)
api = Backend("api", default="http://127.0.0.1:9")
REQUEST = httpx.Request("GET", "http://127.0.0.1:9/x")


def outcome(fn: Function, value: Any) -> str:
    """What the shape gives over ``value`` as source ``s``: its exact JSON, or its failure."""
    assert fn.shape.value is not None
    try:
        data = fn.shape.value.render({"input": {}, "s": value, "meta": {}})
    except SffError as exc:
        return f"error: {exc.message}"
    return json.dumps(data)


def parsed(body: bytes, reads: pj.Demand | None) -> tuple[str, Any]:
    try:
        return "ok", parse_json("s", REQUEST, 200, body, reads)
    except SffError as exc:
        return f"error: {exc.message}", None


def declared(text: str) -> Function | None:
    try:
        return Function("diff", sources={"s": api.get("/x")}, shape=f"s | ({text})")
    except ExpressionError:  # e.g. a `&` the grammar put where no function takes one
        return None


def check(text: str, doc: Any, ascii_only: bool) -> None:
    fn = declared(text)
    if fn is None:
        return
    demand = reads(fn)["s"]
    body = json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    full_how, full = parsed(body, None)
    projected_how, projected = parsed(body, demand)
    assert projected_how == full_how, (text, body)
    if full_how != "ok":
        return
    assert outcome(fn, projected) == outcome(fn, full), (text, demand, body)
    # and the decoder keeps all the demand says, and nothing else than the document has
    # (more than the demand where it reads deep arrays whole)
    assert _same_json(pj.prune(projected, demand), pj.prune(full, demand)), (text, body)


def _same_json(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.fixture(autouse=True)
def every_body_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bodies here are small: project them anyway."""
    monkeypatch.setattr(response, "MIN_BYTES", 0)


PROPERTY = settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    report_multiple_bugs=False,
    suppress_health_check=list(HealthCheck),
)


@PROPERTY
@given(text=EXPRESSIONS | KEYED, doc=DOCS, ascii_only=st.booleans())
def test_a_projected_decode_answers_as_the_full_parse(
    text: str, doc: Any, ascii_only: bool
) -> None:
    check(text, doc, ascii_only)


@settings(PROPERTY, max_examples=400)
@given(text=LARGER, doc=DOCS, ascii_only=st.booleans())
def test_larger_expressions_too(text: str, doc: Any, ascii_only: bool) -> None:
    check(text, doc, ascii_only)


# -- the property catches a planted mistake --------------------------------------------------


def _mutations() -> Iterator[tuple[str, Callable[[pytest.MonkeyPatch], None]]]:
    real_need = pj.need

    def truth_is_type_only(mp: pytest.MonkeyPatch) -> None:
        mp.setattr(pj, "TRUTH", pj.EMPTY)  # `[?x]`, `!x`, `a || b` no longer keep x's keys

    def comparisons_read_nothing(mp: pytest.MonkeyPatch) -> None:
        def need(node: dict[str, Any], out: pj.Demand) -> pj.Demand | None:
            if node["type"] == "comparator":
                return pj.EMPTY
            return real_need(node, out)

        mp.setattr(pj, "need", need)

    def the_decoder_drops_a_kept_field(mp: pytest.MonkeyPatch) -> None:
        real = Projected.__call__

        def call(self: Projected, body: bytes) -> Any:
            value = real(self, body)
            if type(value) is dict and value is not MISS:
                value.pop("a", None)
            return value

        mp.setattr(Projected, "__call__", call)

    yield "TRUTH = EMPTY", truth_is_type_only
    yield "comparator reads nothing", comparisons_read_nothing
    yield "decoder drops 'a'", the_decoder_drops_a_kept_field


@pytest.mark.parametrize(("label", "plant"), list(_mutations()), ids=lambda x: str(x)[:30])
def test_the_property_catches_a_planted_mistake(
    label: str, plant: Callable[[pytest.MonkeyPatch], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    plant(monkeypatch)

    # An explicit seed: the inner function's digest is not stable from run to run. The
    # search found each mistake under every seed tried, but what a seed draws changes with
    # Hypothesis's version (a fresh install missed one in 6000): one hand-picked case per
    # mistake runs first, so the test says whether `check` can see it on every install.
    @seed(18)
    @settings(PROPERTY, max_examples=6000, phases=[Phase.explicit, Phase.generate])
    @given(text=KEYED | SHORT, doc=DOCS, ascii_only=st.booleans())
    @example(text="a[?b].c", doc={"a": [{"b": {"d": 1}, "c": 1}]}, ascii_only=True)
    @example(text="a[?b == 'x'].c", doc={"a": [{"b": "x", "c": 1}]}, ascii_only=True)
    @example(text="a", doc={"a": 1}, ascii_only=True)
    def planted(text: str, doc: Any, ascii_only: bool) -> None:
        check(text, doc, ascii_only)

    with pytest.raises(AssertionError):
        planted()


# -- what the decoder does with what it skips ----------------------------------------------


def reads_a() -> pj.Demand:
    return pj.Pick({"a": pj.ALL})


@pytest.mark.parametrize(
    ("body", "cause"),
    [
        (b'{"a":1,"b":"\xff"}', "invalid JSON"),  # not UTF-8, in a skipped string
        (b'{"a":1,"b":"\xed\xa0\x80"}', "invalid JSON"),  # a surrogate encoded as UTF-8
        (b'{"a":1,"b":[1,]}', "invalid JSON"),
        (b'{"a":1,"b":NaN}', "NaN is not JSON"),
        (b'{"a":1,"b":{"c":' + b"[" * 100_000 + b"]" * 100_000 + b"}}", "nested deeper"),
        (b'{"a":1,"b":tru}', "invalid JSON"),
        (b'{"a":1} x', "invalid JSON"),
        (b'{"a":1e999}', "1e999 is out of range"),  # a read number past a float
    ],
    ids=[
        "bad-utf8",
        "encoded-surrogate",
        "trailing-comma",
        "nan",
        "deep",
        "bad-token",
        "trailing-data",
        "read-overflow",
    ],
)
def test_invalid_json_anywhere_still_fails_the_source(body: bytes, cause: str) -> None:
    with pytest.raises(SffError) as full:
        parse_json("s", REQUEST, 200, body)
    with pytest.raises(SffError) as projected:
        parse_json("s", REQUEST, 200, body, reads_a())
    assert cause in projected.value.message
    assert projected.value.message == full.value.message


def test_what_only_the_stdlib_reads_goes_the_stdlib_way() -> None:
    decode = for_demand(reads_a())
    assert decode is not None
    for body in (b'{"a":"\\ud800"}', b'\xef\xbb\xbf{"a":1}', '{"a":1}'.encode("utf-16")):
        assert decode(body) is MISS
        assert parse_json("s", REQUEST, 200, body, reads_a()) == json.loads(body)


def test_a_number_past_a_float_in_a_skipped_field_is_never_read() -> None:
    """The one leniency: msgspec skips a number without converting it, so 1e999 in a field
    no expression reads does not fail the source (it is never answered either)."""
    assert parse_json("s", REQUEST, 200, b'{"a":1,"b":1e999}', reads_a()) == {"a": 1}


def test_without_msgspec_every_body_is_parsed_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from sff.http import projected

    monkeypatch.setitem(sys.modules, "msgspec", None)  # `import msgspec` raises ImportError
    monkeypatch.setattr(projected, "_decoders", {})
    assert for_demand(reads_a()) is None
    assert parse_json("s", REQUEST, 200, b'{"a":1,"b":2}', reads_a()) == {"a": 1, "b": 2}
