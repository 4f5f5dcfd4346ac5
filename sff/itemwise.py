"""Validate a contract's long lists of models item by item, freeing each shaped dict.

A large answer's peak memory is the shaped data and its contract instances side by side:
``Page.model_validate({"items": [80,000 dicts]})`` holds every dict until the last
instance is made. Here each item of such a list is validated by the item model's own
validator (the one the contract's validation calls for it) and put in the list in place of
its dict, which is freed at once (the next instance reuses its memory), so the peak holds
little more than the instances. The contract's validation then runs as always over the
list, now of instances, which it takes as they are (``revalidate_instances='never'``).

The result is the one ``model_validate`` gives: only fields where that holds are taken, a
field of a contract with no validators of its own (nor strict or from_attributes), typed
exactly ``list[Item]`` (no alias, no metadata) where ``Item`` never revalidates an
instance; a list is changed in place only when the shaped data is its only holder (a
source's own list, still in the context or twice in the data, is never touched). From the
first item that fails, the rest are left as dicts, so the contract's validation reports
every problem, at its full location, as before (that one item is validated twice: an item
validator with a side effect sees it twice).
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

# holders of a list when only the shaped dict does: the dict, this module's name for it,
# and getrefcount's own argument
_SOLE = 3


def validate_lists(contract: type[BaseModel], data: dict[str, Any], min_items: int) -> None:
    """Turn the model lists of ``data`` (a dict the shape made) of ``min_items`` or more
    into instances, in place."""
    for name, item in _list_fields(contract):
        listed = data.get(name)
        if type(listed) is list and len(listed) >= min_items:
            if sys.getrefcount(listed) <= _SOLE:
                _validate_each(item, listed)
            del listed


def _validate_each(item: type[BaseModel], listed: list[Any]) -> None:
    validate = item.__pydantic_validator__.validate_python  # the one the contract's uses
    try:
        for at, value in enumerate(listed):
            listed[at] = validate(value)
    except ValidationError:
        return  # the contract's validation reports it, with the field's full location


@cache
def _list_fields(contract: type[BaseModel]) -> tuple[tuple[str, type[BaseModel]], ...]:
    """The contract's fields this module may validate ahead: none when it has validators."""
    decorators = contract.__pydantic_decorators__
    if (
        decorators.validators
        or decorators.field_validators
        or decorators.root_validators
        or decorators.model_validators
        or contract.model_config.get("strict")
        or contract.model_config.get("from_attributes")
    ):
        return ()
    fields = []
    for name, info in contract.model_fields.items():
        item = _model_item(info.annotation)
        if (
            item is not None
            and not info.metadata
            and info.alias is None
            and info.validation_alias is None
            and item.model_config.get("revalidate_instances", "never") == "never"
        ):
            fields.append((name, item))
    return tuple(fields)


def _model_item(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) is not list:
        return None
    (item,) = get_args(annotation) or (None,)
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None
