"""Fixtures for the Zoom tests: the fake Zoom server, and a clinic connected to it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.zoom.choices import ConnectionStatus
from integrations.zoom.models import ZoomConnection
from tests.fakes.zoom import FakeZoom


@pytest.fixture
def fake_zoom(settings):
    """A fake Zoom on 127.0.0.1, with Jelly's Zoom settings pointing at it."""
    fake = FakeZoom().start()
    settings.ZOOM_CLIENT_ID = fake.client_id
    settings.ZOOM_CLIENT_SECRET = fake.client_secret
    settings.ZOOM_AUTH_URL = fake.auth_url
    settings.ZOOM_TOKEN_URL = fake.token_url
    settings.ZOOM_API_BASE_URL = fake.api_base_url
    settings.ZOOM_WEBHOOK_SECRET_TOKEN = fake.webhook_secret
    settings.ZOOM_HTTP_TIMEOUT_SECONDS = 1
    yield fake
    fake.stop()


@pytest.fixture
def zoom_connection(clinic, adam_admin, fake_zoom):
    """Bath Physio connected to the fake Zoom account, as if Adam had installed the app."""
    access, refresh = fake_zoom.issue_tokens()
    return ZoomConnection.objects.create(
        organisation=clinic,
        status=ConnectionStatus.CONNECTED,
        zoom_account_id=fake_zoom.account_id,
        access_token=access,
        refresh_token=refresh,
        access_token_expires_at=timezone.now() + timedelta(hours=1),
        connected_by=adam_admin,
        connected_at=timezone.now(),
    )


# --- Meetings that follow appointments ----------------------------------------------------------


@pytest.fixture
def telehealth(clinic):
    from tests.diary.factories import ServiceFactory

    return ServiceFactory(organisation=clinic, name="Video follow-up", duration_minutes=30, is_telehealth=True)


def link_to_zoom(fake, staff):
    """`staff` has a Zoom user at the fake, linked in Jelly (as "Link staff by email" does)."""
    from integrations.zoom.choices import UserLinkOrigin
    from integrations.zoom.models import ZoomUserLink

    zoom_user_id = fake.add_user(staff.email, first_name=staff.given_name, last_name=staff.family_name)
    ZoomUserLink.objects.create(
        organisation=staff.organisation, staff=staff, zoom_user_id=zoom_user_id, origin=UserLinkOrigin.MATCHED_BY_EMAIL
    )
    return zoom_user_id


@pytest.fixture
def alice_zoom(fake_zoom, alice_practitioner):
    return link_to_zoom(fake_zoom, alice_practitioner)


@pytest.fixture
def paul_zoom(fake_zoom, paul_practitioner):
    return link_to_zoom(fake_zoom, paul_practitioner)


@pytest.fixture
def auto_zoom(zoom_connection):
    """Bath Physio's Zoom creates meetings for telehealth appointments automatically."""
    zoom_connection.auto_create_for_telehealth = True
    zoom_connection.save(update_fields=["auto_create_for_telehealth"])
    return zoom_connection
