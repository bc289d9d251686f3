"""Every email that links back into Jelly links to `SITE_URL` + the page's path, never to a bare
path: the mail is read in a mail client, and is sent by a worker with no request to take a host
from. Each case drives the real path that sends the email and reads the message as sent."""

import re

from django.core import mail
from django.test import override_settings
from django.urls import reverse

from diary.choices import AppointmentStatus
from integrations.google.choices import ConnectionStatus
from integrations.services import google_calendar_connection_broken
from tests.diary.factories import AppointmentFactory
from tests.integrations.google.factories import GoogleConnectionFactory

SITE_URL = "https://jelly.example-clinic.co.uk"
# A path at the start of a line or after a space is a relative link a mail client cannot follow.
BARE_PATH = re.compile(r"(?:^|\s)(/[\w\-/]+)", re.MULTILINE)


def sent_to(staff) -> mail.EmailMessage:
    [message] = [message for message in mail.outbox if message.to == [staff.email]]
    return message


@override_settings(SITE_URL=SITE_URL)
def test_the_broken_google_connection_email_links_to_the_connection_page_on_the_site(
    alice_practitioner, django_capture_on_commit_callbacks
):
    connection = GoogleConnectionFactory(staff=alice_practitioner)

    with django_capture_on_commit_callbacks(execute=True):
        assert google_calendar_connection_broken(connection=connection, reason="invalid_grant") is True

    body = sent_to(alice_practitioner).body
    assert f"Please connect Google again in Jelly: {SITE_URL}{reverse('google:connection')}\n" in body
    assert BARE_PATH.findall(body) == []
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.BROKEN


def test_the_link_follows_the_site_url_setting(alice_practitioner, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    connection = GoogleConnectionFactory(staff=alice_practitioner)

    with django_capture_on_commit_callbacks(execute=True):
        google_calendar_connection_broken(connection=connection, reason="invalid_grant")

    assert f"http://127.0.0.1:8000{reverse('google:connection')}\n" in sent_to(alice_practitioner).body


@override_settings(SITE_URL=SITE_URL)
def test_the_zoom_meeting_deleted_email_links_to_the_appointment_on_the_site(clinic, alice_practitioner):
    from integrations.zoom.services import practitioner_notify_meeting_deleted

    appointment = AppointmentFactory(
        organisation=clinic,
        practitioner=alice_practitioner,
        status=AppointmentStatus.CANCELLED,
        cancellation_reason="Zoom meeting deleted by host",
    )

    assert practitioner_notify_meeting_deleted(appointment_id=appointment.pk) is True

    path = reverse("diary:appointment", kwargs={"pk": appointment.pk})
    body = sent_to(alice_practitioner).body
    assert f"The appointment in Jelly: {SITE_URL}{path}\n" in body
    assert BARE_PATH.findall(body) == []
