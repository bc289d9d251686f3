"""Uninstall (Zoom's app_deauthorized, or Disconnect in Jelly): exactly this organisation's Zoom
data goes, at once and idempotently, unless it chose to retain it; tokens are always forgotten."""

import pytest

from integrations.zoom import services
from integrations.zoom.choices import AuditKind, ConnectionStatus, DeliveryStatus
from integrations.zoom.models import ZoomAuditEntry, ZoomConnection, ZoomMeeting, ZoomUserLink, ZoomWebhookDelivery
from tests.fakes.zoom import send_webhook
from tests.integrations.zoom.factories import (
    ZoomAuditEntryFactory,
    ZoomConnectionFactory,
    ZoomMeetingFactory,
    ZoomUserLinkFactory,
)


@pytest.fixture
def bath_zoom_data(clinic, zoom_connection):
    links = ZoomUserLinkFactory.create_batch(2, organisation=clinic)
    meetings = ZoomMeetingFactory.create_batch(2, organisation=clinic)
    ZoomAuditEntryFactory.create_batch(3, organisation=clinic, meeting=meetings[0])
    return links, meetings


@pytest.fixture
def other_zoom_data(other_clinic):
    connection = ZoomConnectionFactory(organisation=other_clinic, zoom_account_id="other-account")
    ZoomUserLinkFactory(organisation=other_clinic)
    meeting = ZoomMeetingFactory(organisation=other_clinic)
    ZoomAuditEntryFactory(organisation=other_clinic, meeting=meeting)
    return connection


def counts(organisation) -> tuple[int, int, int]:
    return (
        ZoomUserLink.objects.for_organisation(organisation).count(),
        ZoomMeeting.objects.for_organisation(organisation).count(),
        ZoomAuditEntry.objects.for_organisation(organisation).count(),
    )


def deauthorise(client, fake_zoom, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return send_webhook(client, fake_zoom.deauthorisation_event())


def test_deauthorisation_deletes_exactly_the_organisations_zoom_data(
    client, clinic, other_clinic, bath_zoom_data, other_zoom_data, fake_zoom, django_capture_on_commit_callbacks
):
    assert counts(clinic) == (2, 2, 3)

    response = deauthorise(client, fake_zoom, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert counts(clinic) == (0, 0, 0)
    assert counts(other_clinic) == (1, 1, 1)
    connection = ZoomConnection.objects.get(organisation=clinic)
    assert connection.status == ConnectionStatus.DISCONNECTED
    assert (connection.access_token, connection.refresh_token, connection.access_token_expires_at) == ("", "", None)
    assert "uninstalled in Zoom" in connection.status_reason
    other_zoom_data.refresh_from_db()
    assert other_zoom_data.status == ConnectionStatus.CONNECTED
    assert other_zoom_data.access_token
    assert ZoomWebhookDelivery.objects.get().status == DeliveryStatus.PROCESSED
    assert len(fake_zoom.requests_to("POST", "^/oauth/revoke$")) == 1  # best effort, Basic auth
    assert fake_zoom.requests_to("POST", "^/oauth/revoke$")[0].basic_auth == (
        fake_zoom.client_id,
        fake_zoom.client_secret,
    )


def test_deauthorisation_is_idempotent(
    client, clinic, other_clinic, bath_zoom_data, other_zoom_data, fake_zoom, django_capture_on_commit_callbacks
):
    deauthorise(client, fake_zoom, django_capture_on_commit_callbacks)
    second = deauthorise(client, fake_zoom, django_capture_on_commit_callbacks)  # a new event, not a redelivery
    again = services.connection_uninstall(organisation=clinic, reason="Once more")

    assert second.status_code == 200
    assert ZoomWebhookDelivery.objects.count() == 2
    assert (again.user_links_deleted, again.meetings_deleted, again.audit_entries_deleted) == (0, 0, 0)
    assert counts(clinic) == (0, 0, 0)
    assert counts(other_clinic) == (1, 1, 1)
    assert len(fake_zoom.requests_to("POST", "^/oauth/revoke$")) == 1  # nothing left to revoke


def test_an_organisation_that_chose_retention_keeps_its_rows_read_only(
    client, clinic, bath_zoom_data, zoom_connection, fake_zoom, django_capture_on_commit_callbacks
):
    services.connection_preferences_update(
        organisation=clinic, retain_data_on_uninstall=True, create_users_with_cust_create=False
    )

    deauthorise(client, fake_zoom, django_capture_on_commit_callbacks)

    assert counts(clinic) == (2, 2, 3)
    zoom_connection.refresh_from_db()
    assert zoom_connection.status == ConnectionStatus.DISCONNECTED
    assert (zoom_connection.access_token, zoom_connection.refresh_token) == ("", "")


def test_after_uninstall_meeting_events_are_ignored(
    client, clinic, bath_zoom_data, zoom_connection, fake_zoom, django_capture_on_commit_callbacks
):
    services.connection_preferences_update(
        organisation=clinic, retain_data_on_uninstall=True, create_users_with_cust_create=False
    )
    deauthorise(client, fake_zoom, django_capture_on_commit_callbacks)
    meeting = bath_zoom_data[1][0]

    with django_capture_on_commit_callbacks(execute=True):
        send_webhook(
            client,
            fake_zoom.participant_event("meeting.participant_joined", meeting.zoom_meeting_id, user_name="Late Larry"),
        )

    assert not ZoomAuditEntry.objects.filter(participant_display_name="Late Larry").exists()
    assert ZoomWebhookDelivery.objects.filter(event="meeting.participant_joined").get().status == "ignored"


def test_unprocessed_deliveries_lose_their_payloads_when_data_is_deleted(
    client, clinic, bath_zoom_data, fake_zoom, django_capture_on_commit_callbacks
):
    meeting = bath_zoom_data[1][0]
    with django_capture_on_commit_callbacks(execute=False):
        send_webhook(
            client,
            fake_zoom.participant_event("meeting.participant_joined", meeting.zoom_meeting_id, user_name="Pat"),
        )
    pending = ZoomWebhookDelivery.objects.get()
    assert pending.payload

    services.connection_uninstall(organisation=clinic, reason="Disconnected")
    services.webhook_delivery_process(delivery_id=pending.pk)

    pending.refresh_from_db()
    assert (pending.payload, pending.status) == ("", DeliveryStatus.IGNORED)
    assert not ZoomAuditEntry.objects.filter(kind=AuditKind.PARTICIPANT_JOINED, participant_display_name="Pat").exists()


def test_adam_disconnects_and_deletes_the_data(
    client_for, adam_admin, clinic, other_clinic, bath_zoom_data, other_zoom_data, fake_zoom
):
    response = client_for(adam_admin).post("/integrations/zoom/disconnect/", {"zoom_data": "delete"}, follow=True)

    assert "Zoom data is deleted" in response.content.decode()
    assert counts(clinic) == (0, 0, 0)
    assert counts(other_clinic) == (1, 1, 1)
    assert ZoomConnection.objects.get(organisation=clinic).status == ConnectionStatus.DISCONNECTED


def test_adam_disconnects_and_keeps_the_data(client_for, adam_admin, clinic, bath_zoom_data, fake_zoom):
    response = client_for(adam_admin).post("/integrations/zoom/disconnect/", {"zoom_data": "keep"}, follow=True)

    assert "kept, read-only" in response.content.decode()
    assert counts(clinic) == (2, 2, 3)
    connection = ZoomConnection.objects.get(organisation=clinic)
    assert (connection.status, connection.retain_data_on_uninstall) == (ConnectionStatus.DISCONNECTED, True)
    assert connection.refresh_token == ""


def test_disconnecting_needs_an_explicit_choice_about_the_data(client_for, adam_admin, clinic, bath_zoom_data):
    response = client_for(adam_admin).post("/integrations/zoom/disconnect/", {}, follow=True)

    assert "Choose whether to keep or delete" in response.content.decode()
    assert counts(clinic) == (2, 2, 3)
    assert ZoomConnection.objects.get(organisation=clinic).status == ConnectionStatus.CONNECTED


def test_rita_cannot_disconnect_zoom(client_for, rita_receptionist, clinic, bath_zoom_data):
    response = client_for(rita_receptionist).post("/integrations/zoom/disconnect/", {"zoom_data": "delete"})

    assert response.status_code == 403
    assert counts(clinic) == (2, 2, 3)


def test_olga_disconnecting_her_clinic_leaves_ours_alone(
    client_for, olga_other, clinic, other_clinic, bath_zoom_data, other_zoom_data, fake_zoom
):
    client_for(olga_other).post("/integrations/zoom/disconnect/", {"zoom_data": "delete"})

    assert counts(other_clinic) == (0, 0, 0)
    assert counts(clinic) == (2, 2, 3)
    assert ZoomConnection.objects.get(organisation=clinic).status == ConnectionStatus.CONNECTED


def test_uninstall_also_forgets_which_appointments_wanted_meetings_but_keeps_the_appointments(
    client, clinic, other_clinic, zoom_connection, other_zoom_data, fake_zoom, django_capture_on_commit_callbacks
):
    from diary.models import Appointment
    from integrations.zoom.models import ZoomMeetingRequest
    from tests.diary.factories import _appointment

    ours = _appointment(clinic, "ours")
    theirs = _appointment(other_clinic, "theirs")
    for appointment in (ours, theirs):
        ZoomMeetingRequest.objects.create(organisation=appointment.organisation, appointment=appointment)
        ZoomMeetingFactory(organisation=appointment.organisation, appointment=appointment)

    deauthorise(client, fake_zoom, django_capture_on_commit_callbacks)

    assert not ZoomMeetingRequest.objects.filter(organisation=clinic).exists()
    assert not ZoomMeeting.objects.filter(organisation=clinic).exists()
    assert ZoomMeetingRequest.objects.filter(organisation=other_clinic).count() == 1
    assert ZoomMeeting.objects.filter(organisation=other_clinic, appointment=theirs).count() == 1
    assert Appointment.objects.filter(pk=ours.pk).exists()
