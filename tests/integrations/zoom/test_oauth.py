"""Installing Jelly's Zoom app through the fake, refreshing with rotation, and broken connections."""

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone

from integrations.zoom import services
from integrations.zoom.choices import ConnectionStatus
from integrations.zoom.errors import ZoomAuthExpired, ZoomIntegrationError
from integrations.zoom.models import ZoomConnection, ZoomMeeting, ZoomUserLink
from tests.integrations.zoom.factories import ZoomConnectionFactory, ZoomMeetingFactory, ZoomUserLinkFactory

SETTINGS_URL = "/integrations/zoom/"


def start_install(client) -> str:
    response = client.post("/integrations/zoom/connect/")
    assert response.status_code == 302
    return response["Location"]


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_adam_installs_zoom_through_the_authorisation_code_flow(client_for, adam_admin, clinic, fake_zoom, caplog):
    client = client_for(adam_admin)

    with caplog.at_level(logging.DEBUG):
        authorise_url = start_install(client)
        query = parse_qs(urlsplit(authorise_url).query)
        assert authorise_url.startswith(fake_zoom.auth_url)
        assert query["response_type"] == ["code"]
        assert query["client_id"] == [fake_zoom.client_id]
        assert query["redirect_uri"] == [f"{settings.SITE_URL}/integrations/zoom/oauth/callback/"]
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["state"][0]) >= 32

        back = fake_zoom.consent(authorise_url)
        response = client.get(callback_path(back))

    assert response.status_code == 302
    assert response["Location"] == SETTINGS_URL
    connection = ZoomConnection.objects.get(organisation=clinic)
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.zoom_account_id == fake_zoom.account_id
    assert connection.connected_by == adam_admin
    assert connection.access_token in fake_zoom.access_tokens
    assert connection.refresh_token in fake_zoom.refresh_tokens
    assert connection.access_token_expires_at > timezone.now() + timedelta(minutes=55)

    [token_request] = fake_zoom.requests_to("POST", "^/oauth/token$")
    assert token_request.basic_auth == (fake_zoom.client_id, fake_zoom.client_secret)
    assert token_request.form["grant_type"] == "authorization_code"
    assert token_request.form["redirect_uri"] == f"{settings.SITE_URL}/integrations/zoom/oauth/callback/"
    assert "code_verifier" in token_request.form
    assert "client_secret" not in token_request.form

    # Never logged, and encrypted at rest.
    assert connection.access_token not in caplog.text
    assert connection.refresh_token not in caplog.text
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM zoom_integration_zoomconnection")
        stored_access, stored_refresh = cursor.fetchone()
    assert connection.access_token not in stored_access
    assert connection.refresh_token not in stored_refresh

    page = client.get(response["Location"])
    assert "Zoom is connected." in page.content.decode()


def test_a_callback_with_a_state_this_session_did_not_start_is_refused(client_for, adam_admin, clinic, fake_zoom):
    client = client_for(adam_admin)
    authorise_url = start_install(client)
    back = fake_zoom.consent(authorise_url.replace("state=", "state=forged"))

    response = client.get(callback_path(back), follow=True)

    assert "was not started here" in response.content.decode()
    assert not ZoomConnection.objects.filter(organisation=clinic).exists()
    assert fake_zoom.requests_to("POST", "^/oauth/token$") == []


def test_a_code_can_be_used_only_once(client_for, adam_admin, clinic, fake_zoom):
    client = client_for(adam_admin)
    back = fake_zoom.consent(start_install(client))
    client.get(callback_path(back))
    ZoomConnection.objects.all().delete()

    response = client.get(callback_path(back), follow=True)

    assert "was not started here" in response.content.decode()
    assert not ZoomConnection.objects.exists()


def test_an_install_the_admin_declines_in_zoom_connects_nothing(client_for, adam_admin, clinic, fake_zoom):
    fake_zoom.consent_denied = True
    client = client_for(adam_admin)
    back = fake_zoom.consent(start_install(client))

    response = client.get(callback_path(back), follow=True)

    assert "access was not granted" in response.content.decode()
    assert not ZoomConnection.objects.exists()


def test_a_zoom_account_connected_to_another_organisation_is_refused_and_the_grant_revoked(
    client_for, adam_admin, other_clinic, fake_zoom
):
    ZoomConnectionFactory(organisation=other_clinic, zoom_account_id=fake_zoom.account_id)
    client = client_for(adam_admin)
    back = fake_zoom.consent(start_install(client))

    response = client.get(callback_path(back), follow=True)

    assert "already connected to another organisation" in response.content.decode()
    assert ZoomConnection.objects.count() == 1
    assert len(fake_zoom.requests_to("POST", "^/oauth/revoke$")) == 1


def test_rita_and_alice_cannot_install_zoom(client_for, rita_receptionist, alice_practitioner, fake_zoom):
    for staff in (rita_receptionist, alice_practitioner):
        assert client_for(staff).post("/integrations/zoom/connect/").status_code == 403
        assert client_for(staff).get("/integrations/zoom/oauth/callback/?code=x&state=y").status_code == 403


def test_an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_persisted(
    zoom_connection, clinic, fake_zoom
):
    old_access, old_refresh = zoom_connection.access_token, zoom_connection.refresh_token
    ZoomConnection.objects.filter(pk=zoom_connection.pk).update(access_token_expires_at=timezone.now())

    services.zoom_client_for(clinic).list_users()

    zoom_connection.refresh_from_db()
    [refresh_request] = fake_zoom.requests_to("POST", "^/oauth/token$")
    assert refresh_request.form == {"grant_type": "refresh_token", "refresh_token": old_refresh}
    assert refresh_request.basic_auth == (fake_zoom.client_id, fake_zoom.client_secret)
    assert zoom_connection.access_token != old_access
    assert zoom_connection.refresh_token != old_refresh
    assert zoom_connection.refresh_token in fake_zoom.refresh_tokens
    assert old_refresh not in fake_zoom.refresh_tokens  # rotated: the old one is spent

    # The next refresh uses the rotated token, and works.
    ZoomConnection.objects.filter(pk=zoom_connection.pk).update(access_token_expires_at=timezone.now())
    services.zoom_client_for(clinic).list_users()
    zoom_connection.refresh_from_db()
    assert zoom_connection.status == ConnectionStatus.CONNECTED
    assert len(fake_zoom.requests_to("POST", "^/oauth/token$")) == 2


def test_a_401_from_the_api_refreshes_once_and_retries(zoom_connection, clinic, fake_zoom):
    fake_zoom.expire_access_tokens()  # Zoom no longer accepts the token, though Jelly thinks it is fresh

    users = services.zoom_client_for(clinic).list_users()

    assert [user.email for user in users] == ["zoom-admin@clinic.test"]
    assert [r.path for r in fake_zoom.requests] == ["/v2/users", "/oauth/token", "/v2/users"]
    zoom_connection.refresh_from_db()
    assert zoom_connection.status == ConnectionStatus.CONNECTED


def test_a_revoked_refresh_token_breaks_the_connection_and_loses_nothing(
    client_for, adam_admin, zoom_connection, clinic, fake_zoom
):
    link = ZoomUserLinkFactory(organisation=clinic)
    meeting = ZoomMeetingFactory(organisation=clinic)
    fake_zoom.revoke_everything()

    with pytest.raises(ZoomAuthExpired):
        services.zoom_client_for(clinic).list_users()

    zoom_connection.refresh_from_db()
    assert zoom_connection.status == ConnectionStatus.BROKEN
    assert "reconnect" in zoom_connection.status_reason
    assert ZoomUserLink.objects.filter(pk=link.pk).exists()
    assert ZoomMeeting.objects.filter(pk=meeting.pk).exists()
    page = client_for(adam_admin).get(SETTINGS_URL).content.decode()
    assert "Zoom stopped accepting Jelly" in page
    assert "Connect Zoom" in page

    # Broken means no more calls to Zoom at all.
    calls_so_far = len(fake_zoom.requests)
    with pytest.raises(ZoomIntegrationError):
        services.zoom_client_for(clinic)
    assert len(fake_zoom.requests) == calls_so_far


def test_a_second_401_after_refreshing_breaks_the_connection(zoom_connection, clinic, fake_zoom):
    fake_zoom.inject(status=401, path="^/v2/users$", times=2)

    with pytest.raises(ZoomAuthExpired):
        services.zoom_client_for(clinic).list_users()

    zoom_connection.refresh_from_db()
    assert zoom_connection.status == ConnectionStatus.BROKEN


def test_a_transient_failure_of_the_token_endpoint_does_not_break_the_connection(zoom_connection, clinic, fake_zoom):
    from integrations.zoom.errors import TransientZoomError

    ZoomConnection.objects.filter(pk=zoom_connection.pk).update(access_token_expires_at=timezone.now())
    fake_zoom.inject(status=503, path="^/oauth/token$")

    with pytest.raises(TransientZoomError):
        services.zoom_client_for(clinic).list_users()

    zoom_connection.refresh_from_db()
    assert zoom_connection.status == ConnectionStatus.CONNECTED


def test_reconnecting_after_a_break_repairs_the_connection(client_for, adam_admin, zoom_connection, clinic, fake_zoom):
    services.connection_mark_broken(connection_id=zoom_connection.pk, reason="Refused.")
    client = client_for(adam_admin)

    client.get(callback_path(fake_zoom.consent(start_install(client))))

    zoom_connection.refresh_from_db()
    assert (zoom_connection.status, zoom_connection.status_reason) == (ConnectionStatus.CONNECTED, "")
