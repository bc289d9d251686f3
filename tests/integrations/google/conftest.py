"""Every test here talks to the fake Google (tests/fakes/google.py) through the real libraries."""

import pytest

from integrations.google.sync import forget_clients
from tests.fakes.google import fake_google  # noqa: F401 - the fixture


@pytest.fixture(autouse=True)
def google_settings(settings, fake_google, monkeypatch):  # noqa: F811 - the fixture above
    """GOOGLE_* settings point at the fake; oauthlib may use plain http to 127.0.0.1 (tests only).

    Each test has its own fake (and port), so Calendar clients cached for an earlier test's
    fake are forgotten before and after."""
    forget_clients()
    for name, value in fake_google.settings().items():
        setattr(settings, name, value)
    settings.GOOGLE_HTTP_TIMEOUT_SECONDS = 5
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    yield fake_google
    forget_clients()
