"""Function routes: path parameters match one segment each and join the input."""

from sff.routes import compile_route


def test_a_route_parameter_matches_one_segment_and_is_named() -> None:
    pattern = compile_route("/todos/{todo_id}/comments")
    found = pattern.fullmatch("/todos/42/comments")
    assert found is not None and found.groupdict() == {"todo_id": "42"}
    assert pattern.fullmatch("/todos/4/2/comments") is None


def test_a_route_allows_a_trailing_slash_and_escapes_its_literal_parts() -> None:
    pattern = compile_route("/v1.0/dashboard")
    assert pattern.fullmatch("/v1.0/dashboard/") is not None
    assert pattern.fullmatch("/v1x0/dashboard") is None
