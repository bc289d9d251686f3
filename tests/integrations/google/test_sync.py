"""The diary in each practitioner's Google Calendar, end to end through the web.

The real google-auth-oauthlib flow connects Alice and Paul at the fake Google's consent page;
Rita books, moves, reassigns and cancels through the pages and the API; the real
google-api-python-client pushes to the fake. Tasks run only after commit
(`django_capture_on_commit_callbacks`), exactly as the on-commit hooks queue them.
"""

import datetime
import io

import pytest
from django.core import mail as django_mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.models import Staff
from diary import services as diary
from diary.choices import AppointmentStatus
from diary.models import Appointment
from diary.recurrence import Recurrence
from integrations import outbox
from integrations.choices import OutboxStatus
from integrations.google.choices import ConnectionStatus
from integrations.google.client import event_id_for
from integrations.google.models import GoogleConnection
from integrations.google.sync import GOOGLE_CALENDAR
from integrations.models import OutboxEntry
from tests.diary.conftest import (  # noqa: F401 - fixtures
    DAY,
    alice_hours,
    at,
    book,
    follow_up,
    patient,
    paul_hours,
)
from tests.fakes.google import Fault
from tests.integrations.factories import google_connection_at

pytestmark = pytest.mark.django_db

ALICE_GOOGLE = "alice.physio@gmail.test"
PAUL_GOOGLE = "paul.physio@gmail.test"


def connect_calendar(client, fake, account: str):
    """A practitioner's browser: our connect page → the fake's consent page → our callback."""
    response = client.get(reverse("google:connect"), {"purpose": "calendar"})
    assert response.status_code == 302
    callback = fake.consent(response["Location"], account=account)
    return client.get(callback, follow=True)


def live(fake, account):
    return fake.live_events(account)


@pytest.fixture
def connected(client_for, fake_google, alice_practitioner, paul_practitioner, django_capture_on_commit_callbacks):
    for staff, account in ((alice_practitioner, ALICE_GOOGLE), (paul_practitioner, PAUL_GOOGLE)):
        with django_capture_on_commit_callbacks(execute=True):
            page = connect_calendar(client_for(staff), fake_google, account)
        assert "Google Calendar is connected." in page.content.decode()
    return fake_google


def test_book_move_reassign_and_cancel_reach_the_practitioners_calendars(
    connected,
    client_for,
    api_client_for,
    rita_receptionist,
    alice_practitioner,
    paul_practitioner,
    alice_hours,  # noqa: F811
    paul_hours,  # noqa: F811
    patient,  # noqa: F811
    follow_up,  # noqa: F811
    clinic_location,
    django_capture_on_commit_callbacks,
):
    fake = connected
    rita = client_for(rita_receptionist)

    # Book (the diary's booking page).
    with django_capture_on_commit_callbacks(execute=True):
        response = rita.post(
            reverse("diary:book"),
            {
                "patient": patient.pk,
                "practitioner": alice_practitioner.pk,
                "service": follow_up.pk,
                "location": clinic_location.pk,
                "date": DAY.isoformat(),
                "time": "10:00",
                "notes": "Needs the ground floor",
            },
        )
    assert response.status_code == 302, response.content[:1000]
    appointment = Appointment.objects.get()
    event_id = event_id_for(appointment.pk)
    event = live(fake, ALICE_GOOGLE)[event_id]
    assert event["summary"] == "John Smith \u2013 Follow-up"
    assert event["start"] == {"dateTime": "2030-01-07T10:00:00+00:00", "timeZone": "Europe/London"}
    assert event["end"] == {"dateTime": "2030-01-07T10:30:00+00:00", "timeZone": "Europe/London"}
    assert "Needs the ground floor" in event["description"]
    assert live(fake, PAUL_GOOGLE) == {}
    entry = OutboxEntry.objects.get(appointment=appointment)
    assert entry.status == OutboxStatus.DONE and entry.pushed_version == 1

    # Move (the API): one PATCH of the event Jelly knows it created.
    api = api_client_for(rita_receptionist)
    before = len(fake.requests_to("/calendar/v3/"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            f"/api/v1/appointments/{appointment.pk}/", {"version": 1, "start": at(11).isoformat()}, format="json"
        )
    assert response.status_code == 200, response.content
    calls = fake.requests_to("/calendar/v3/")[before:]
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in calls] == [("PATCH", event_id)]
    assert live(fake, ALICE_GOOGLE)[event_id]["start"]["dateTime"] == "2030-01-07T11:00:00+00:00"

    # Reassign to Paul: deleted from Alice's calendar, created in Paul's.
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            f"/api/v1/appointments/{appointment.pk}/",
            {"version": 2, "practitioner": str(paul_practitioner.pk)},
            format="json",
        )
    assert response.status_code == 200, response.content
    assert event_id not in live(fake, ALICE_GOOGLE)
    assert fake.events(ALICE_GOOGLE)[event_id]["status"] == "cancelled"
    assert live(fake, PAUL_GOOGLE)[event_id]["start"]["dateTime"] == "2030-01-07T11:00:00+00:00"
    entry.refresh_from_db()
    assert entry.remote_owner == paul_practitioner and entry.remote_stale == []

    # Cancel (the diary's cancel page): deleted from Paul's calendar.
    with django_capture_on_commit_callbacks(execute=True):
        response = rita.post(
            reverse("diary:cancel", kwargs={"pk": appointment.pk}), {"version": 3, "reason": "Patient unwell"}
        )
    assert response.status_code in (200, 302), response.content[:500]
    assert live(fake, PAUL_GOOGLE) == {} and live(fake, ALICE_GOOGLE) == {}
    entry.refresh_from_db()
    assert entry.status == OutboxStatus.DONE and entry.remote_owner is None


def test_the_push_leaves_only_after_commit(
    book,  # noqa: F811
    connected,
    alice_practitioner,
    alice_hours,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    fake = connected
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        appointment = book(at(9))
        assert OutboxEntry.objects.filter(appointment=appointment, status=OutboxStatus.PENDING).exists()
    assert live(fake, ALICE_GOOGLE) == {}  # committed nothing yet, so nothing left
    assert callbacks
    for callback in callbacks:
        callback()
    assert event_id_for(appointment.pk) in live(fake, ALICE_GOOGLE)


def test_bookings_from_the_api_the_admin_and_a_recurring_series_are_all_pushed(
    connected,
    api_client_for,
    client_for,
    adam_admin,
    rita_receptionist,
    alice_practitioner,
    alice_hours,  # noqa: F811
    patient,  # noqa: F811
    follow_up,  # noqa: F811
    clinic_location,
    django_capture_on_commit_callbacks,
):
    fake = connected
    api = api_client_for(rita_receptionist)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/appointments/",
            {
                "patient": str(patient.pk),
                "practitioner": str(alice_practitioner.pk),
                "service": str(follow_up.pk),
                "location": str(clinic_location.pk),
                "start": at(9).isoformat(),
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    by_api = Appointment.objects.get(pk=response.json()["id"])
    assert event_id_for(by_api.pk) in live(fake, ALICE_GOOGLE)

    with django_capture_on_commit_callbacks(execute=True):
        _, series, _ = diary.series_book(
            actor=rita_receptionist,
            patient=patient,
            practitioner=alice_practitioner,
            service=follow_up,
            location=clinic_location,
            first_start=at(14),
            recurrence=Recurrence(interval_weeks=1, count=4),
        )
    assert {event_id_for(a.pk) for a in series} <= set(live(fake, ALICE_GOOGLE))

    # Admin: the cancel action goes through the diary service, so Google hears of it too.
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(adam_admin).post(
            reverse("admin:diary_appointment_changelist"),
            {"action": "cancel_appointments", "_selected_action": [str(series[0].pk)]},
        )
    assert response.status_code == 302
    assert event_id_for(series[0].pk) not in live(fake, ALICE_GOOGLE)
    assert len(live(fake, ALICE_GOOGLE)) == 4  # the API booking and three occurrences


def test_the_demo_seeder_books_through_the_diary_so_its_appointments_are_pushed(
    fake_google, django_capture_on_commit_callbacks
):
    from core.demo import seed_organisation

    seed_organisation()  # the demo clinic and its staff, so Alice can connect first
    alice = Staff.objects.get(email="alice@demo.jelly.test")
    google_connection_at(fake_google, alice, account=ALICE_GOOGLE)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())  # books two weeks through the diary
    upcoming = Appointment.objects.filter(practitioner=alice, end__gte=datetime.datetime.now(datetime.UTC)).exclude(
        status=AppointmentStatus.CANCELLED
    )
    assert upcoming.exists()
    assert {event_id_for(a.pk) for a in upcoming} <= set(live(fake_google, ALICE_GOOGLE))


def test_draining_twice_makes_one_external_effect(
    book,  # noqa: F811
    connected,
    alice_practitioner,
    alice_hours,  # noqa: F811
):
    fake = connected
    book(at(9))
    before = len(fake.requests_to("/calendar/v3/"))
    first = outbox.drain()
    second = outbox.drain()
    assert first.done == 1 and second.claimed == 0
    assert len(fake.requests_to("/calendar/v3/")) == before + 1
    assert len(live(fake, ALICE_GOOGLE)) == 1


def test_ten_quick_edits_cost_one_push_of_the_current_state(
    book,  # noqa: F811
    connected,
    rita_receptionist,
    alice_practitioner,
    alice_hours,  # noqa: F811
):
    fake = connected
    appointment = book(at(9))
    for minutes in range(1, 10):
        appointment = diary.appointment_reschedule(
            actor=rita_receptionist,
            appointment=appointment,
            version=appointment.version,
            start=at(9) + datetime.timedelta(minutes=5 * minutes),
        )
    before = len(fake.requests_to("/calendar/v3/"))
    outbox.drain()
    calls = fake.requests_to("/calendar/v3/")[before:]
    assert len(calls) == 1 and calls[0].method == "POST"
    event = live(fake, ALICE_GOOGLE)[event_id_for(appointment.pk)]
    assert event["start"]["dateTime"] == "2030-01-07T09:45:00+00:00"
    entry = OutboxEntry.objects.get(appointment=appointment)
    assert entry.pushed_version == entry.wanted_version == 10


def test_a_lost_answer_to_an_insert_is_patched_not_duplicated(
    book,  # noqa: F811
    connected,
    alice_practitioner,
    alice_hours,  # noqa: F811
    settings,
):
    fake = connected
    settings.INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS = 0.01
    settings.INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS = 0.02
    appointment = book(at(9))
    fake.inject(Fault.DROP_AFTER, method="POST", path="/calendar/v3/", times=2)  # httplib2 retries once itself
    report = outbox.drain(until_settled=True, poll_seconds=0.05)
    assert report.retried == 1 and report.done == 1
    methods = [r.method for r in fake.requests_to("/calendar/v3/")]
    assert methods[-1] == "PATCH"  # the retry's insert met 409 and patched
    assert list(live(fake, ALICE_GOOGLE)) == [event_id_for(appointment.pk)]


@pytest.mark.parametrize("fault", [Fault.RATE_LIMIT, Fault.USER_RATE_LIMIT, Fault.TOO_MANY_REQUESTS, Fault.UNAVAILABLE])
def test_rate_limits_and_outages_back_off_then_succeed(
    book,  # noqa: F811
    fault,
    connected,
    alice_practitioner,
    alice_hours,  # noqa: F811
    settings,
):
    fake = connected
    appointment = book(at(9))
    fake.inject(fault, path="/calendar/v3/", times=2)
    first = outbox.drain()
    entry = OutboxEntry.objects.get(appointment=appointment)
    assert first.retried == 1 and entry.status == OutboxStatus.PENDING
    assert entry.next_attempt_at > entry.last_attempt_at  # backing off
    assert entry.last_error.startswith("Google:")
    settings.INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS = 0.01
    settings.INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS = 0.02
    OutboxEntry.objects.filter(pk=entry.pk).update(next_attempt_at=entry.last_attempt_at)
    outbox.drain(until_settled=True, poll_seconds=0.05)
    entry.refresh_from_db()
    assert entry.status == OutboxStatus.DONE and entry.attempts == 0
    assert list(live(fake, ALICE_GOOGLE)) == [event_id_for(appointment.pk)]


def test_after_the_retry_budget_the_row_is_dead_lettered_and_a_retry_brings_it_back(
    book,  # noqa: F811
    connected,
    client_for,
    alice_practitioner,
    adam_admin,
    alice_hours,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    fake = connected
    settings.INTEGRATIONS_OUTBOX_MAX_ATTEMPTS = 3
    settings.INTEGRATIONS_OUTBOX_BACKOFF_BASE_SECONDS = 0.01
    settings.INTEGRATIONS_OUTBOX_BACKOFF_CAP_SECONDS = 0.02
    appointment = book(at(9))
    fake.inject(Fault.SERVER_ERROR, path="/calendar/v3/", times=3)
    report = outbox.drain(until_settled=True, poll_seconds=0.05)
    entry = OutboxEntry.objects.get(appointment=appointment)
    assert report.dead == 1 and entry.status == OutboxStatus.DEAD and entry.dead_at
    assert entry.last_error.startswith("Gave up after 3 attempts: Google: 500 backendError Backend Error")
    assert live(fake, ALICE_GOOGLE) == {}

    page = client_for(alice_practitioner).get(reverse("integrations:sync-health"))
    assert "Gave up after 3 attempts" in page.content.decode()
    home = client_for(adam_admin).get(reverse("home")).content.decode()
    assert "1 calendar update failed" in home

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice_practitioner).post(reverse("integrations:outbox-retry", kwargs={"pk": entry.pk}))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == OutboxStatus.DONE
    assert list(live(fake, ALICE_GOOGLE)) == [event_id_for(appointment.pk)]


def test_a_revoked_grant_breaks_the_connection_once_blocks_its_rows_and_reconnecting_catches_up(
    book,  # noqa: F811
    connected,
    client_for,
    rita_receptionist,
    alice_practitioner,
    adam_admin,
    alice_hours,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    fake = connected
    first = book(at(9))
    outbox.drain()
    fake.revoke_account(ALICE_GOOGLE)  # Alice removed Jelly at myaccount.google.com
    fake.expire_access_tokens(ALICE_GOOGLE)
    second = book(at(10))
    third = diary.appointment_reschedule(actor=rita_receptionist, appointment=first, version=1, start=at(11))
    with django_capture_on_commit_callbacks(execute=True):
        report = outbox.drain()
    assert report.blocked >= 1 and report.dead == 0
    connection = GoogleConnection.objects.get(staff=alice_practitioner)
    assert connection.status == ConnectionStatus.BROKEN and "invalid_grant" in connection.broken_reason
    assert set(OutboxEntry.objects.values_list("status", flat=True)) == {OutboxStatus.BLOCKED}
    refreshes = len(fake.requests_to("/token"))
    assert outbox.drain().claimed == 0  # blocked rows wait: no more calls for Alice
    assert len(fake.requests_to("/token")) == refreshes

    # Alice is emailed once, and sees a banner on the home page; so does the admin.
    assert [m.to for m in django_mail.outbox] == [[alice_practitioner.email]]
    assert "Jelly can no longer reach your Google account" in django_mail.outbox[0].subject
    assert "Your Google connection is broken" in client_for(alice_practitioner).get("/").content.decode()
    assert "Google connections broken" in client_for(adam_admin).get("/").content.decode()
    assert "Your Google connection is broken" in (
        client_for(alice_practitioner).get(reverse("integrations:sync-health")).content.decode()
    )
    from integrations.services import google_connection_broken_notify

    assert google_connection_broken_notify(connection_id=connection.pk) is False  # once
    assert len(django_mail.outbox) == 1

    # Reconnecting reconciles: both appointments in her calendar, once each.
    with django_capture_on_commit_callbacks(execute=True):
        connect_calendar(client_for(alice_practitioner), fake, ALICE_GOOGLE)
    events = live(fake, ALICE_GOOGLE)
    assert set(events) == {event_id_for(first.pk), event_id_for(second.pk)}
    assert events[event_id_for(third.pk)]["start"]["dateTime"] == "2030-01-07T11:00:00+00:00"
    assert set(OutboxEntry.objects.values_list("status", flat=True)) == {OutboxStatus.DONE}


def test_a_single_401_is_refreshed_and_retried_transparently(
    book,  # noqa: F811
    connected,
    alice_practitioner,
    alice_hours,  # noqa: F811
):
    fake = connected
    book(at(9))
    fake.inject(Fault.UNAUTHORIZED, path="/calendar/v3/", times=1)
    assert outbox.drain().done == 1
    assert GoogleConnection.objects.get(staff=alice_practitioner).status == ConnectionStatus.CONNECTED
    assert len(live(fake, ALICE_GOOGLE)) == 1


def test_a_401_that_survives_the_refresh_breaks_the_connection(
    book,  # noqa: F811
    connected,
    alice_practitioner,
    alice_hours,  # noqa: F811
):
    fake = connected
    book(at(9))
    fake.inject(Fault.UNAUTHORIZED, path="/calendar/v3/", times=2)
    report = outbox.drain()
    assert report.blocked == 1
    connection = GoogleConnection.objects.get(staff=alice_practitioner)
    assert connection.status == ConnectionStatus.BROKEN
    assert len(fake.requests_to("/token")) >= 1  # refreshed once before giving up


def test_reconcile_repairs_drift_and_never_duplicates(
    book,  # noqa: F811
    connected,
    alice_practitioner,
    paul_practitioner,
    alice_hours,  # noqa: F811
    capsys,
):
    fake = connected
    kept = book(at(9))
    lost = book(at(10))
    outbox.drain()
    # Drift: a row Jelly thinks is done but whose push never happened (e.g. restored backup),
    # and an appointment with no row at all.
    OutboxEntry.objects.filter(appointment=lost).update(pushed_version=0, remote_owner=None, remote_id="")
    OutboxEntry.objects.filter(appointment=kept).delete()
    call_command("reconcile_google_calendar", "--practitioner", alice_practitioner.email)
    output = capsys.readouterr().out
    assert "1 row(s) created, 1 row(s) re-marked pending" in output
    assert set(live(fake, ALICE_GOOGLE)) == {event_id_for(kept.pk), event_id_for(lost.pk)}
    assert set(OutboxEntry.objects.values_list("status", flat=True)) == {OutboxStatus.DONE}
    call_command("reconcile_google_calendar")
    assert "0 row(s) created, 0 row(s) re-marked pending" in capsys.readouterr().out
    # Both re-inserts met 409 (the deterministic id) and were patched: still two events.
    assert [r.status for r in fake.requests_to("/calendar/v3/", "POST")] == [200, 200, 409, 409]
    assert len(fake.events(ALICE_GOOGLE)) == 2


def test_disconnecting_with_removal_deletes_the_pushed_events_then_revokes(
    book,  # noqa: F811
    connected,
    client_for,
    alice_practitioner,
    alice_hours,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    fake = connected
    for hour in (9, 10, 11):
        book(at(hour))
    outbox.drain()
    assert len(live(fake, ALICE_GOOGLE)) == 3
    token = GoogleConnection.objects.get(staff=alice_practitioner).refresh_token
    with django_capture_on_commit_callbacks(execute=True):
        client_for(alice_practitioner).post(reverse("google:disconnect"), {"remove_pushed_events": "on"})
    assert live(fake, ALICE_GOOGLE) == {}
    connection = GoogleConnection.objects.get(staff=alice_practitioner)
    assert connection.status == ConnectionStatus.DISCONNECTED and connection.refresh_token == ""
    assert not fake.token_is_live(token)
    assert not OutboxEntry.objects.filter(remote_owner=alice_practitioner).exists()


def test_a_broken_previous_owner_keeps_the_stale_copy_until_they_reconnect(
    book,  # noqa: F811
    connected,
    client_for,
    rita_receptionist,
    alice_practitioner,
    paul_practitioner,
    alice_hours,  # noqa: F811
    paul_hours,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    fake = connected
    appointment = book(at(9))
    outbox.drain()
    GoogleConnection.objects.filter(staff=alice_practitioner).update(
        status=ConnectionStatus.BROKEN, broken_at=datetime.datetime.now(datetime.UTC)
    )
    diary.appointment_reschedule(
        actor=rita_receptionist, appointment=appointment, version=1, practitioner=paul_practitioner
    )
    outbox.drain()
    entry = OutboxEntry.objects.get(appointment=appointment)
    assert entry.status == OutboxStatus.DONE and entry.remote_owner == paul_practitioner
    assert entry.stale_owner_ids == {str(alice_practitioner.pk)}
    assert event_id_for(appointment.pk) in live(fake, PAUL_GOOGLE)
    assert event_id_for(appointment.pk) in live(fake, ALICE_GOOGLE)  # cannot be reached yet

    with django_capture_on_commit_callbacks(execute=True):
        connect_calendar(client_for(alice_practitioner), fake, ALICE_GOOGLE)
    assert live(fake, ALICE_GOOGLE) == {}
    assert event_id_for(appointment.pk) in live(fake, PAUL_GOOGLE)
    entry.refresh_from_db()
    assert entry.remote_stale == []


def test_a_practitioner_without_google_gets_no_rows_and_no_calls(
    book,  # noqa: F811
    fake_google,
    alice_practitioner,
    alice_hours,  # noqa: F811
):
    book(at(9))
    assert not OutboxEntry.objects.filter(destination=GOOGLE_CALENDAR).exists()
    assert fake_google.requests == []


@pytest.mark.parametrize(
    ("status", "gets_a_row"),
    [
        (ConnectionStatus.CONNECTED, True),
        (ConnectionStatus.BROKEN, True),  # waits for the reconnect
        (ConnectionStatus.DISCONNECTED, False),
    ],
)
def test_a_new_booking_gets_a_calendar_row_while_its_practitioner_has_google(
    book,  # noqa: F811
    fake_google,
    alice_practitioner,
    alice_hours,  # noqa: F811
    status,
    gets_a_row,
):
    # The listener reads the connection's status ahead, with the organisation's settings.
    google_connection_at(fake_google, alice_practitioner)
    as_left = {
        ConnectionStatus.CONNECTED: {},
        ConnectionStatus.BROKEN: {"broken_at": timezone.now()},
        ConnectionStatus.DISCONNECTED: {"access_token": "", "refresh_token": ""},
    }[status]
    GoogleConnection.objects.filter(staff=alice_practitioner).update(status=status, **as_left)

    appointment = book(at(9))

    assert OutboxEntry.objects.filter(destination=GOOGLE_CALENDAR, appointment=appointment).exists() is gets_a_row
