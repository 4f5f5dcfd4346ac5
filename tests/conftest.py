"""Shared fixtures, and the contract-testing kit turned on for the example functions."""

from sff.testing import degradation_matrix
from tests.redis_server import redis_server, redis_url  # noqa: F401

# Every example function: each source failed alone, then all optional ones together,
# must answer a valid contract marked degraded or a clean 502 naming the source.
degradation_matrix()
