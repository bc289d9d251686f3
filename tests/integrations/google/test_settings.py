"""The Google settings fail at start when malformed, like every other setting."""

import pytest
from google.oauth2.credentials import Credentials

from integrations.google.client import GmailClient, GoogleCalendarClient
from tests.core.test_settings import load_settings, production_env, settings_error


def test_a_client_id_without_its_secret_fails_at_start():
    error = settings_error(production_env(GOOGLE_OAUTH_CLIENT_ID="jelly.apps.googleusercontent.com"))

    assert "GOOGLE_OAUTH_CLIENT_SECRET" in error


@pytest.mark.parametrize("name", ["GOOGLE_AUTH_URI", "GOOGLE_TOKEN_URI", "GOOGLE_REVOKE_URI", "GOOGLE_API_ENDPOINT"])
def test_an_endpoint_that_is_not_a_url_fails_at_start(name):
    assert name in settings_error(production_env(**{name: "accounts.google.com"}))


def test_a_timeout_must_be_positive():
    assert "GOOGLE_HTTP_TIMEOUT_SECONDS" in settings_error(production_env(GOOGLE_HTTP_TIMEOUT_SECONDS="0"))


def test_the_client_secret_may_come_from_a_file(tmp_path):
    secret_file = tmp_path / "google_secret"
    secret_file.write_text("from-a-file\n")

    env = production_env(GOOGLE_OAUTH_CLIENT_ID="id", GOOGLE_OAUTH_CLIENT_SECRET_FILE=str(secret_file))

    assert load_settings(env)["DEBUG"] is False  # starts


def test_with_googles_default_endpoint_each_api_keeps_its_own_host(settings):
    """Calendar lives at www.googleapis.com/calendar/v3/, Gmail at gmail.googleapis.com/gmail/v1/."""
    settings.GOOGLE_API_ENDPOINT = "https://www.googleapis.com/"

    insert = GoogleCalendarClient(_offline_credentials())._service.events().insert(calendarId="primary", body={})
    send = GmailClient(_offline_credentials())._service.users().messages().send(userId="me", body={"raw": ""})
    assert insert.uri.startswith("https://www.googleapis.com/calendar/v3/calendars/primary/events")
    assert send.uri.startswith("https://gmail.googleapis.com/gmail/v1/users/me/messages/send")


def test_an_overridden_endpoint_keeps_googles_paths(settings):
    settings.GOOGLE_API_ENDPOINT = "http://127.0.0.1:8999/"

    insert = GoogleCalendarClient(_offline_credentials())._service.events().insert(calendarId="primary", body={})
    send = GmailClient(_offline_credentials())._service.users().messages().send(userId="me", body={"raw": ""})

    assert insert.uri.startswith("http://127.0.0.1:8999/calendar/v3/calendars/primary/events")
    assert send.uri.startswith("http://127.0.0.1:8999/gmail/v1/users/me/messages/send")


def _offline_credentials():
    # Building a request makes no call (bundled discovery documents); nothing is executed here.
    return Credentials(token="not-used", client_id="id", client_secret="secret", token_uri="http://127.0.0.1:9/")
