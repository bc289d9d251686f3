"""Connecting Google through the web pages: the real google-auth-oauthlib flow against the fake.

Alice (a practitioner) connects her calendar, then Gmail; Rita (a receptionist) may connect
Gmail only; a callback whose state this session did not start is refused; disconnecting
revokes at Google and deletes the tokens.
"""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db import connection as db
from django.urls import reverse

from integrations.google.choices import CALENDAR_SCOPE, GMAIL_SEND_SCOPE, ConnectionStatus
from integrations.google.models import GoogleConnection
from integrations.google.services import google_connection_finish_disconnect
from tests.fakes.google import CLIENT_SECRET, DEFAULT_ACCOUNT
from tests.integrations.google.factories import GoogleConnectionFactory

pytestmark = pytest.mark.django_db

CONNECTION_PAGE = "/integrations/google/"


def start(client, purpose: str) -> str:
    response = client.get(reverse("google:connect"), {"purpose": purpose})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def connect(client, fake, purpose: str, **consent):
    """Alice's browser: our connect page → Google's consent page → back to our callback."""
    callback = fake.consent(start(client, purpose), **consent)
    return client.get(callback, follow=True)


def raw_token_columns(connection_id) -> tuple[str, str]:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM google_integration_googleconnection WHERE id = %s",
            [connection_id],
        )
        return cursor.fetchone()


def test_alice_connects_her_google_calendar(client_for, alice_practitioner, fake_google):
    client = client_for(alice_practitioner)

    auth_url = start(client, "calendar")
    params = {key: values[0] for key, values in parse_qs(urlsplit(auth_url).query).items()}
    assert params["scope"] == CALENDAR_SCOPE  # that scope only, nothing else
    assert params["access_type"] == "offline"
    assert params["include_granted_scopes"] == "true"
    assert params["prompt"] == "consent"
    assert params["code_challenge_method"] == "S256"
    # Built on SITE_URL, not on the request's Host header, so it always matches the registered one.
    assert params["redirect_uri"] == f"{settings.SITE_URL}/integrations/google/callback/"

    page = client.get(fake_google.consent(auth_url), follow=True)

    assert page.redirect_chain[-1][0] == CONNECTION_PAGE
    assert "Google Calendar is connected." in page.content.decode()
    connection = GoogleConnection.objects.get(staff=alice_practitioner)
    assert connection.organisation == alice_practitioner.organisation
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.granted_scopes == [CALENDAR_SCOPE]
    assert connection.has_calendar and not connection.has_gmail
    assert fake_google.token_is_live(connection.access_token)
    assert fake_google.token_is_live(connection.refresh_token)
    assert connection.token_expiry is not None

    exchange = fake_google.requests_to("/token")[-1]
    assert exchange.headers["authorization"] == "[redacted]"  # client credentials as HTTP Basic
    assert exchange.form()["grant_type"] == "authorization_code"
    assert len(exchange.form()["code_verifier"]) == 128  # the verifier kept in the session

    access_raw, refresh_raw = raw_token_columns(connection.pk)
    assert connection.access_token not in access_raw and access_raw.startswith("gAAAA")
    assert connection.refresh_token not in refresh_raw and refresh_raw.startswith("gAAAA")


def test_connecting_gmail_later_asks_only_for_gmail_send_and_keeps_calendar(
    client_for, alice_practitioner, fake_google
):
    client = client_for(alice_practitioner)
    connect(client, fake_google, "calendar")
    first = GoogleConnection.objects.get(staff=alice_practitioner)

    auth_url = start(client, "gmail")
    assert parse_qs(urlsplit(auth_url).query)["scope"] == [GMAIL_SEND_SCOPE]
    page = client.get(fake_google.consent(auth_url), follow=True)

    assert "Gmail (sending only) is connected." in page.content.decode()
    connection = GoogleConnection.objects.get(staff=alice_practitioner)
    assert connection.pk == first.pk
    assert connection.granted_scopes == sorted([CALENDAR_SCOPE, GMAIL_SEND_SCOPE])
    assert connection.refresh_token != first.refresh_token
    assert connection.has_calendar and connection.has_gmail


def test_a_scope_google_did_not_grant_is_shown_clearly(client_for, alice_practitioner, fake_google):
    client = client_for(alice_practitioner)
    connect(client, fake_google, "calendar")

    # Granular consent: Alice unticks "send email on your behalf".
    page = connect(client, fake_google, "gmail", grant=[])

    text = page.content.decode()
    assert "Gmail (sending only) is not connected: Google did not grant" in text
    assert GMAIL_SEND_SCOPE in text
    connection = GoogleConnection.objects.get(staff=alice_practitioner)
    assert connection.granted_scopes == [CALENDAR_SCOPE]  # the granted scopes, not the requested ones
    assert connection.has_calendar and not connection.has_gmail


def test_a_first_connection_without_the_scope_is_not_usable(client_for, paul_practitioner, fake_google):
    page = connect(client_for(paul_practitioner), fake_google, "calendar", grant=[])

    assert "Google Calendar is not connected" in page.content.decode()
    assert not GoogleConnection.objects.get(staff=paul_practitioner).has_calendar


@pytest.mark.parametrize(
    "state",
    [None, "", "forged-state"],
    ids=["missing", "empty", "forged"],
)
def test_a_callback_with_a_state_this_session_did_not_start_is_refused(
    client_for, alice_practitioner, fake_google, state
):
    client = client_for(alice_practitioner)
    callback = fake_google.consent(start(client, "calendar"))
    query = {key: values[0] for key, values in parse_qs(urlsplit(callback).query).items()}
    if state is None:
        query.pop("state")
    else:
        query["state"] = state

    response = client.get(reverse("google:callback"), query)

    assert response.status_code == 400
    assert "was not started here" in response.content.decode()
    assert fake_google.requests_to("/token") == []  # the code was never exchanged
    assert not GoogleConnection.objects.filter(staff=alice_practitioner).exists()


def test_a_callback_started_by_someone_else_is_refused(client_for, alice_practitioner, paul_practitioner, fake_google):
    callback = fake_google.consent(start(client_for(alice_practitioner), "calendar"))

    response = client_for(paul_practitioner).get(callback)

    assert response.status_code == 400
    assert fake_google.requests_to("/token") == []
    assert not GoogleConnection.objects.exists()


def test_a_callback_cannot_be_replayed(client_for, alice_practitioner, fake_google):
    client = client_for(alice_practitioner)
    callback = fake_google.consent(start(client, "calendar"))
    assert client.get(callback).status_code == 302

    assert client.get(callback).status_code == 400
    assert len(fake_google.requests_to("/token")) == 1


def test_google_refuses_the_code_without_the_sessions_verifier(client_for, alice_practitioner, fake_google):
    client = client_for(alice_practitioner)
    callback = fake_google.consent(start(client, "calendar"))
    session = client.session
    session["google_oauth_pending"]["code_verifier"] = "x" * 128
    session.save()

    page = client.get(callback, follow=True)

    assert "Google did not accept the sign-in" in page.content.decode()
    assert fake_google.requests_to("/token")[-1].status == 400
    assert not GoogleConnection.objects.exists()


def test_cancelling_on_googles_page_connects_nothing(client_for, alice_practitioner, fake_google):
    page = connect(client_for(alice_practitioner), fake_google, "calendar", deny=True)

    assert "Google Calendar was not connected" in page.content.decode()
    assert "access_denied" in page.content.decode()
    assert not GoogleConnection.objects.exists()


def test_rita_may_connect_gmail_but_not_calendar(client_for, rita_receptionist, fake_google):
    client = client_for(rita_receptionist)

    assert client.get(reverse("google:connect"), {"purpose": "calendar"}).status_code == 403
    page = connect(client, fake_google, "gmail")

    assert "Gmail (sending only) is connected." in page.content.decode()
    assert "Connect Google Calendar" not in page.content.decode()
    assert GoogleConnection.objects.get(staff=rita_receptionist).has_gmail


def test_connect_needs_a_known_purpose(client_for, alice_practitioner):
    client = client_for(alice_practitioner)

    assert client.get(reverse("google:connect")).status_code == 400
    assert client.get(reverse("google:connect"), {"purpose": "drive"}).status_code == 400


def test_connect_says_so_when_google_is_not_set_up(client_for, alice_practitioner, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = ""

    response = client_for(alice_practitioner).get(reverse("google:connect"), {"purpose": "calendar"})

    assert response.status_code == 503
    assert "not set up" in response.content.decode()


def test_reconnecting_a_broken_connection_makes_it_work_again(client_for, alice_practitioner, fake_google):
    client = client_for(alice_practitioner)
    connect(client, fake_google, "calendar")
    GoogleConnection.objects.filter(staff=alice_practitioner).update(
        status=ConnectionStatus.BROKEN, broken_reason="invalid_grant", broken_at="2026-01-01T00:00Z"
    )
    banner = client.get(CONNECTION_PAGE).content.decode()
    assert "Google stopped accepting Jelly's access" in banner

    connect(client, fake_google, "calendar")

    connection = GoogleConnection.objects.get(staff=alice_practitioner)
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.broken_at is None and connection.broken_reason == ""


def test_disconnect_revokes_at_google_and_deletes_the_tokens(client_for, alice_practitioner, fake_google):
    client = client_for(alice_practitioner)
    connect(client, fake_google, "calendar")
    before = GoogleConnection.objects.get(staff=alice_practitioner)

    page = client.post(reverse("google:disconnect"), follow=True)

    assert "Jelly&#x27;s access is revoked and its tokens deleted" in page.content.decode()
    revoke = fake_google.requests_to("/revoke")
    assert len(revoke) == 1 and revoke[0].form()["token"] == before.refresh_token
    assert not fake_google.token_is_live(before.refresh_token)
    assert not fake_google.token_is_live(before.access_token)
    connection = GoogleConnection.objects.get(staff=alice_practitioner)
    assert connection.status == ConnectionStatus.DISCONNECTED
    assert (connection.access_token, connection.refresh_token, connection.granted_scopes) == ("", "", [])
    assert raw_token_columns(connection.pk) == ("", "")
    assert connection.remove_pushed_events is False


def test_disconnect_removing_pushed_events_keeps_access_until_the_worker_has_removed_them(
    client_for, alice_practitioner, fake_google
):
    client = client_for(alice_practitioner)
    connect(client, fake_google, "calendar")

    page = client.post(reverse("google:disconnect"), {"remove_pushed_events": "on"}, follow=True)

    assert "removing the appointments it added" in page.content.decode()
    connection = GoogleConnection.objects.get(staff=alice_practitioner)
    assert connection.status == ConnectionStatus.DISCONNECTING
    assert connection.remove_pushed_events is True and connection.disconnect_requested_at is not None
    assert fake_google.requests_to("/revoke") == []
    assert not connection.has_calendar  # nothing new is pushed meanwhile

    outcome = google_connection_finish_disconnect(connection=connection)

    assert outcome.revoked is True
    assert outcome.connection.status == ConnectionStatus.DISCONNECTED
    assert outcome.connection.remove_pushed_events is True
    assert not fake_google.token_is_live(connection.refresh_token)


def test_disconnect_deletes_the_tokens_even_when_google_cannot_be_reached(
    client_for, alice_practitioner, fake_google, settings
):
    client = client_for(alice_practitioner)
    connect(client, fake_google, "calendar")
    settings.GOOGLE_REVOKE_URI = "http://127.0.0.1:9/revoke"  # nothing listens there

    page = client.post(reverse("google:disconnect"), follow=True)

    assert "could not reach Google" in page.content.decode()
    assert "myaccount.google.com/permissions" in page.content.decode()
    assert GoogleConnection.objects.get(staff=alice_practitioner).refresh_token == ""


def test_disconnecting_a_broken_connection_cannot_remove_events_and_says_so(client_for, alice_practitioner):
    GoogleConnectionFactory(staff=alice_practitioner, status=ConnectionStatus.BROKEN, broken_at="2026-01-01T00:00Z")

    page = client_for(alice_practitioner).post(
        reverse("google:disconnect"), {"remove_pushed_events": "on"}, follow=True
    )

    assert "appointments it added are still there" in page.content.decode()
    assert GoogleConnection.objects.get(staff=alice_practitioner).status == ConnectionStatus.DISCONNECTED


def test_disconnect_without_a_connection_changes_nothing(client_for, alice_practitioner, fake_google):
    page = client_for(alice_practitioner).post(reverse("google:disconnect"), follow=True)

    assert "Google is not connected." in page.content.decode()
    assert fake_google.requests_to("/revoke") == []


def test_the_connection_page_shows_only_ones_own_connection(client_for, alice_practitioner, paul_practitioner):
    GoogleConnectionFactory(staff=paul_practitioner, google_email="paul.private@gmail.test")

    page = client_for(alice_practitioner).get(CONNECTION_PAGE).content.decode()

    assert "Not connected" in page
    assert "paul.private" not in page


def test_tokens_and_secrets_never_reach_the_logs(client_for, alice_practitioner, fake_google, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(alice_practitioner)

    auth_url = start(client, "calendar")
    callback = fake_google.consent(auth_url)
    client.get(callback)
    connection = GoogleConnection.objects.get(staff=alice_practitioner)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    verifier = fake_google.requests_to("/token")[-1].form()["code_verifier"]
    secrets_seen = [connection.access_token, connection.refresh_token, code, verifier, CLIENT_SECRET]
    client.post(reverse("google:disconnect"))

    assert caplog.records, "the flow should log something at DEBUG"
    for value in secrets_seen:
        assert value not in caplog.text
    assert connection.access_token not in str(connection) and connection.access_token not in repr(connection)


def test_admin_never_shows_tokens(client_for, adam_admin, alice_practitioner, olga_other):
    connection = GoogleConnectionFactory(staff=alice_practitioner, google_email=DEFAULT_ACCOUNT)
    admin = client_for(adam_admin)

    changelist = admin.get("/admin/google_integration/googleconnection/")
    change = admin.get(f"/admin/google_integration/googleconnection/{connection.pk}/change/")

    assert changelist.status_code == 200 and change.status_code == 200
    for page in (changelist, change):
        text = page.content.decode()
        assert connection.access_token not in text and connection.refresh_token not in text
        assert "access_token" not in text and "refresh_token" not in text
    assert DEFAULT_ACCOUNT in change.content.decode()
    foreign = client_for(olga_other).get("/admin/google_integration/googleconnection/")
    assert DEFAULT_ACCOUNT not in foreign.content.decode()


def test_an_admin_can_disconnect_a_leavers_google(client_for, adam_admin, alice_practitioner, fake_google):
    access, refresh = fake_google.issue_tokens(DEFAULT_ACCOUNT, [CALENDAR_SCOPE])
    connection = GoogleConnectionFactory(staff=alice_practitioner, access_token=access, refresh_token=refresh)

    client_for(adam_admin).post(
        "/admin/google_integration/googleconnection/",
        {"action": "disconnect", "_selected_action": [str(connection.pk)]},
    )

    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.DISCONNECTED
    assert not fake_google.token_is_live(refresh)
