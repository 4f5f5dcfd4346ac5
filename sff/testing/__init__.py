"""Contract testing for sff functions: mocked backends by name, fault injection, recorded
cases, the degradation matrix, property checks and schema export.

The pytest plugin (`sff.testing.plugin`) gives the ``backends`` and ``sff_invoke``
fixtures, replays ``tests/cases/**/*.json`` and runs the degradation matrix; everything
here also works without pytest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sff.testing.calling import ainvoke, invoke
    from sff.testing.casefile import Case, CaseFormatError, load_case
    from sff.testing.matrix import (
        DegradationFailure,
        acheck_degradation,
        check_degradation,
        degradation_matrix,
    )
    from sff.testing.mock import (
        MockBackend,
        MockBackends,
        MockRoute,
        SffTestingWarning,
        UnmockedRequest,
    )
    from sff.testing.properties import PropertyViolation, check_properties, property_test
    from sff.testing.record import arecord_case, record_case
    from sff.testing.replay import CaseFailure, areplay_case, replay_case
    from sff.testing.services import MockService, MockServices

# Loaded on first use: the pytest plugin imports this package in every test run.
_HOME = {
    "casefile": ["Case", "CaseFormatError", "load_case"],
    "calling": ["ainvoke", "invoke"],
    "matrix": [
        "DegradationFailure",
        "acheck_degradation",
        "check_degradation",
        "degradation_matrix",
    ],
    "mock": ["MockBackend", "MockBackends", "MockRoute", "SffTestingWarning", "UnmockedRequest"],
    "properties": ["PropertyViolation", "check_properties", "property_test"],
    "record": ["arecord_case", "record_case"],
    "services": ["MockService", "MockServices"],
    "replay": ["CaseFailure", "areplay_case", "replay_case"],
}
_MODULE = {name: module for module, names in _HOME.items() for name in names}


def __getattr__(name: str) -> Any:
    if name not in _MODULE:
        raise AttributeError(f"module 'sff.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sff.testing.{_MODULE[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Case",
    "CaseFailure",
    "CaseFormatError",
    "DegradationFailure",
    "MockBackend",
    "MockBackends",
    "MockRoute",
    "MockService",
    "MockServices",
    "PropertyViolation",
    "SffTestingWarning",
    "UnmockedRequest",
    "acheck_degradation",
    "ainvoke",
    "arecord_case",
    "areplay_case",
    "check_degradation",
    "check_properties",
    "degradation_matrix",
    "invoke",
    "load_case",
    "property_test",
    "record_case",
    "replay_case",
]
