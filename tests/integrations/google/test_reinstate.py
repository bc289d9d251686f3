"""A reinstated appointment, followed by Google and the patient's email.

Rita cancels, then reinstates through the diary's page; the real google-api-python-client pushes
to the fake Google (tests/fakes/google.py), which keeps a deleted event, status "cancelled",
under its id as Google does. Tasks run only after commit (`django_capture_on_commit_callbacks`).
"""

import pytest
from django.urls import reverse

from diary import services as diary
from diary.choices import AppointmentStatus
from integrations import outbox, services
from integrations.choices import EmailKind, EmailStatus, OutboxStatus
from integrations.google.client import event_id_for
from integrations.models import EmailDelivery, OutboxEntry, OutgoingEmail
from tests.diary.conftest import alice_hours, at, follow_up  # noqa: F401 - fixtures
from tests.integrations.factories import google_connection_at

pytestmark = pytest.mark.django_db

ALICE_GOOGLE = "alice.physio@gmail.test"
BOOKED = "Your appointment on Monday 7 January 2030 at 10:00"
CANCELLED = "Your appointment on Monday 7 January 2030 is cancelled"


@pytest.fixture
def alice_google(fake_google, alice_practitioner):
    """Alice's Google: her calendar shows her appointments, and patient email goes from her Gmail."""
    return google_connection_at(fake_google, alice_practitioner, account=ALICE_GOOGLE)


@pytest.fixture
def appointment(
    committed,
    rita_receptionist,
    john,
    alice_practitioner,
    follow_up,  # noqa: F811
    clinic_location,
    alice_hours,  # noqa: F811
):
    with committed():
        return diary.appointment_book(
            actor=rita_receptionist,
            patient=john,
            practitioner=alice_practitioner,
            service=follow_up,
            location=clinic_location,
            start=at(10),
        )


@pytest.fixture
def rita(client_for, rita_receptionist):
    return client_for(rita_receptionist)


def reinstate(client, appointment):
    current = type(appointment).objects.get(pk=appointment.pk)
    return client.post(reverse("diary:reinstate", kwargs={"pk": appointment.pk}), {"version": current.version})


def cancel(appointment, actor, **kwargs):
    current = type(appointment).objects.get(pk=appointment.pk)
    return diary.appointment_cancel(actor=actor, appointment=current, version=current.version, **kwargs)


def subjects(fake) -> list[str]:
    return [m.message["Subject"] for m in fake.sent]


# --- Google Calendar --------------------------------------------------------------------------


def test_a_reinstated_appointment_is_back_in_the_calendar_as_the_same_event(
    fake_google, alice_google, appointment, committed, rita, rita_receptionist
):
    event_id = event_id_for(appointment.pk)
    assert event_id in fake_google.live_events(ALICE_GOOGLE)
    with committed():
        cancel(appointment, rita_receptionist, reason="Patient unwell")
    assert fake_google.events(ALICE_GOOGLE)[event_id]["status"] == "cancelled"  # Google keeps it, cancelled
    before = len(fake_google.requests_to("/calendar/v3/"))

    with committed():
        response = reinstate(rita, appointment)

    assert response.status_code == 302
    # The insert meets the cancelled event's id (409), so the event is patched back to confirmed.
    calls = fake_google.requests_to("/calendar/v3/")[before:]
    assert [(call.method, call.status) for call in calls] == [("POST", 409), ("PATCH", 200)]
    assert calls[-1].json()["status"] == "confirmed"
    events = fake_google.events(ALICE_GOOGLE)
    assert list(events) == [event_id]  # one event for the appointment, never a second
    assert events[event_id]["status"] == "confirmed"
    assert events[event_id]["start"] == {"dateTime": "2030-01-07T10:00:00+00:00", "timeZone": "Europe/London"}
    assert events[event_id]["summary"] == "John Smith \u2013 Follow-up"
    entry = OutboxEntry.objects.get(appointment=appointment)
    assert (entry.status, entry.pushed_version, str(entry.remote_owner_id)) == (
        OutboxStatus.DONE,
        3,
        str(appointment.practitioner_id),
    )

    # Cancelled and reinstated again: the same event goes and comes back once more.
    with committed():
        cancel(appointment, rita_receptionist)
    assert fake_google.live_events(ALICE_GOOGLE) == {}
    with committed():
        reinstate(rita, appointment)
    assert list(fake_google.live_events(ALICE_GOOGLE)) == [event_id]


def test_reinstated_before_the_cancellation_was_pushed_the_event_just_stays(
    fake_google, alice_google, appointment, rita, rita_receptionist
):
    cancel(appointment, rita_receptionist)  # not committed: nothing pushed yet
    reinstate(rita, appointment)
    before = len(fake_google.requests_to("/calendar/v3/"))

    report = outbox.drain()

    assert report.done == 1
    calls = fake_google.requests_to("/calendar/v3/")[before:]
    assert [call.method for call in calls] == ["PATCH"]  # the latest state only: never deleted
    assert event_id_for(appointment.pk) in fake_google.live_events(ALICE_GOOGLE)


# --- Patient email ----------------------------------------------------------------------------


def test_a_patient_told_of_the_cancellation_is_told_it_is_booked_again(
    fake_google, alice_google, appointment, committed, rita, rita_receptionist
):
    with committed():
        cancel(appointment, rita_receptionist)
    assert subjects(fake_google) == [BOOKED, CANCELLED]

    with committed():
        reinstate(rita, appointment)

    assert subjects(fake_google) == [BOOKED, CANCELLED, BOOKED]
    body = fake_google.sent[-1].message.get_content()
    assert "Dear John," in body and "Follow-up appointment with Alice" in body and "Bath High Street" in body
    delivery = EmailDelivery.objects.filter(appointment=appointment).order_by("pk").last()
    assert (delivery.kind, delivery.status, delivery.dedupe_key) == (
        EmailKind.CONFIRMATION,
        EmailStatus.SENT,
        f"reinstatement:{appointment.pk}:v3",
    )
    assert not OutgoingEmail.objects.exists()
    assert services.emails_drain() == {}  # and nothing is sent twice


def test_cancelled_and_reinstated_twice_each_message_has_its_own_key(
    fake_google, alice_google, appointment, committed, rita, rita_receptionist
):
    for _ in range(2):
        with committed():
            cancel(appointment, rita_receptionist)
        with committed():
            assert reinstate(rita, appointment).status_code == 302

    assert subjects(fake_google) == [BOOKED, CANCELLED, BOOKED, CANCELLED, BOOKED]
    assert list(EmailDelivery.objects.order_by("pk").values_list("dedupe_key", flat=True)) == [
        f"confirmation:{appointment.pk}",
        f"cancellation:{appointment.pk}:v2",
        f"reinstatement:{appointment.pk}:v3",
        f"cancellation:{appointment.pk}:v4",
        f"reinstatement:{appointment.pk}:v5",
    ]


def test_a_cancellation_still_waiting_is_withdrawn_and_the_booking_confirmed(
    fake_google, alice_google, appointment, committed, rita, rita_receptionist
):
    cancel(appointment, rita_receptionist)  # its email waits: the sender has not run
    with committed():
        reinstate(rita, appointment)

    assert subjects(fake_google) == [BOOKED, BOOKED]
    withdrawn = EmailDelivery.objects.get(appointment=appointment, kind=EmailKind.CANCELLATION)
    assert withdrawn.status == EmailStatus.SKIPPED
    assert withdrawn.skip_reason == "Superseded: the appointment was reinstated before this was sent."
    assert not OutgoingEmail.objects.exists()


def test_a_booking_cancelled_before_its_confirmation_went_is_confirmed_when_reinstated(
    fake_google,
    alice_google,
    committed,
    rita,
    rita_receptionist,
    john,
    alice_practitioner,
    follow_up,  # noqa: F811
    clinic_location,
    alice_hours,  # noqa: F811
):
    booked = diary.appointment_book(
        actor=rita_receptionist,
        patient=john,
        practitioner=alice_practitioner,
        service=follow_up,
        location=clinic_location,
        start=at(10),
    )
    cancel(booked, rita_receptionist)  # the confirmation is withdrawn unsent: John was told nothing
    with committed():
        reinstate(rita, booked)

    assert subjects(fake_google) == [BOOKED]
    assert services.emails_drain() == {}
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.BOOKED
