"""Property checks on the example app: whatever the backends answer within their raw-data
contracts, `dashboard` gives a valid contract or a clean error, never a crash."""

from functions.dashboard import dashboard
from sff.testing import property_test

test_dashboard_answers_every_backend_answer_its_raw_contracts_allow = property_test(
    dashboard, examples=40
)
