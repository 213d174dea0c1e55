"""Settings of the property-based (hypothesis) tests."""

from hypothesis import HealthCheck, settings

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
    ],
)
