"""Zoom meetings follow their appointments, both ways, end to end.

Rita books, moves, reassigns and cancels through the diary's services; the outbox pushes to the
fake Zoom over real HTTP; hosts change meetings in Zoom and Zoom's signed webhooks come back
through the webhook URL. Tasks run only after commit (`django_capture_on_commit_callbacks`),
exactly as the on-commit hooks queue them.
"""

import datetime

import pytest
from django.core import mail as django_mail
from django.urls import reverse

from diary import services as diary
from diary.choices import AppointmentStatus
from diary.models import Appointment
from integrations import outbox
from integrations.choices import OutboxStatus, PatientNameDisplay
from integrations.models import OutboxEntry
from integrations.zoom.choices import ZOOM_MEETING, AuditKind, AuditSource, ConnectionStatus
from integrations.zoom.models import ZoomAuditEntry, ZoomConnection, ZoomMeeting, ZoomMeetingRequest
from integrations.zoom.payloads import appointment_reference
from integrations.zoom.services import REINSTATED_WITHOUT_MEETING
from tests.diary.conftest import alice_hours, at, patient, paul_hours  # noqa: F401 - fixtures
from tests.fakes.zoom import send_webhook
from tests.integrations.factories import IntegrationSettingsFactory
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def zoom_time(value: datetime.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def book(rita_receptionist, patient, alice_practitioner, telehealth, clinic_location, alice_hours):  # noqa: F811
    def make(start, **overrides):
        values = {
            "actor": rita_receptionist,
            "patient": patient,
            "practitioner": alice_practitioner,
            "service": telehealth,
            "location": clinic_location,
            "start": start,
        }
        values.update(overrides)
        return diary.appointment_book(**values)

    return make


def live_meetings(fake, appointment) -> list[dict]:
    reference = appointment_reference(appointment.pk)
    with fake.lock:
        return [dict(m) for m in fake.meetings.values() if reference in m["agenda"]]


def kinds(appointment) -> list[tuple[str, str]]:
    return list(
        ZoomAuditEntry.objects.filter(meeting__appointment=appointment)
        .order_by("occurred_at", "id")
        .values_list("kind", "source")
    )


def test_a_meeting_follows_its_appointment_both_ways(
    client,
    committed,
    fake_zoom,
    auto_zoom,
    alice_zoom,
    book,
    rita_receptionist,
    patient,  # noqa: F811
    alice_practitioner,
):
    # Book telehealth: the meeting is created, hosted by Alice, at the appointment's time.
    with committed():
        appointment = book(at(10))
    [created] = live_meetings(fake_zoom, appointment)
    assert created["host_id"] == alice_zoom
    assert (created["start_time"], created["duration"], created["timezone"]) == (
        "2030-01-07T10:00:00Z",
        30,
        "Europe/London",
    )
    assert created["settings"]["waiting_room"] is True
    assert created["topic"] == "Video follow-up \u2013 John Smith"
    meeting = ZoomMeeting.objects.get(appointment=appointment)
    assert meeting.join_url == created["join_url"]
    assert kinds(appointment) == [(AuditKind.CREATED, AuditSource.JELLY)]

    # Move in Jelly: the meeting is PATCHed.
    with committed():
        appointment = diary.appointment_reschedule(
            actor=rita_receptionist, appointment=appointment, version=appointment.version, start=at(11)
        )
    [moved] = live_meetings(fake_zoom, appointment)
    assert (moved["id"], moved["start_time"], moved["duration"]) == (created["id"], "2030-01-07T11:00:00Z", 30)
    assert fake_zoom.requests_to("PATCH", r"/meetings/")[-1].json["start_time"] == "2030-01-07T11:00:00Z"

    # Zoom's webhook about Jelly's own PATCH is an echo: nothing happens.
    version = appointment.version
    echo = fake_zoom.event(
        "meeting.updated",
        {"id": created["id"], "uuid": created["uuid"], "start_time": "2030-01-07T11:00:00Z"},
        time_stamp=int(datetime.datetime.now(UTC).timestamp() * 1000),
    )
    with committed():
        assert send_webhook(client, echo).status_code == 200
    appointment.refresh_from_db()
    assert (appointment.version, appointment.start) == (version, at(11))
    assert kinds(appointment) == [(AuditKind.CREATED, AuditSource.JELLY), (AuditKind.UPDATED, AuditSource.JELLY)]

    # Move in Zoom: the appointment moves, and Jelly sends nothing back.
    patches = len(fake_zoom.requests_to("PATCH"))
    with committed():
        send_webhook(client, fake_zoom.update_in_zoom(created["id"], start_time="2030-01-07T14:00:00Z", duration=45))
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (at(14), at(14, 45))
    assert appointment.changes.last().by == alice_practitioner
    assert len(fake_zoom.requests_to("PATCH")) == patches
    assert kinds(appointment)[-1] == (AuditKind.UPDATED, AuditSource.ZOOM)

    # A conflicting move in Zoom: refused, flagged, and the meeting set back.
    other = PatientFactory(organisation=appointment.organisation, given_name="Mary", family_name="Jones")
    with committed():
        diary.appointment_book(
            actor=rita_receptionist,
            patient=other,
            practitioner=alice_practitioner,
            service=appointment.service,
            location=appointment.location,
            start=at(16),
        )
    with committed():
        send_webhook(client, fake_zoom.update_in_zoom(created["id"], start_time="2030-01-07T16:00:00Z"))
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (at(14), at(14, 45))
    meeting.refresh_from_db()
    assert meeting.flagged_at is not None
    assert "already booked" in meeting.flag_reason
    [restored] = live_meetings(fake_zoom, appointment)
    assert (restored["start_time"], restored["duration"]) == ("2030-01-07T14:00:00Z", 45)
    assert kinds(appointment)[-2:] == [
        (AuditKind.CHANGE_REFUSED, AuditSource.ZOOM),
        (AuditKind.UPDATED, AuditSource.JELLY),
    ]
    # …and the webhook about the restoring PATCH is an echo again.
    entries = len(kinds(appointment))
    with committed():
        send_webhook(
            client,
            fake_zoom.event(
                "meeting.updated",
                {"id": created["id"], "start_time": "2030-01-07T14:00:00Z"},
                time_stamp=int(datetime.datetime.now(UTC).timestamp() * 1000),
            ),
        )
    assert len(kinds(appointment)) == entries

    # Delete in Zoom: the appointment is cancelled and Alice is told (no patient details).
    deletes = len(fake_zoom.requests_to("DELETE"))
    with committed():
        send_webhook(client, fake_zoom.delete_in_zoom(created["id"]))
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancellation_reason == "Zoom meeting deleted by host"
    assert len(fake_zoom.requests_to("DELETE")) == deletes  # nothing left to delete
    [notice] = [m for m in django_mail.outbox if m.to == [alice_practitioner.email]]
    assert "Mon 7 Jan 2030 14:00" in notice.body
    assert "John" not in notice.body + notice.subject and "Smith" not in notice.body + notice.subject
    assert patient.nhs_number not in notice.body
    assert kinds(appointment)[-1] == (AuditKind.DELETED, AuditSource.ZOOM)
    assert OutboxEntry.objects.get(destination=ZOOM_MEETING, appointment=appointment).status == OutboxStatus.DONE
    assert kinds(appointment) == [
        (AuditKind.CREATED, AuditSource.JELLY),
        (AuditKind.UPDATED, AuditSource.JELLY),
        (AuditKind.UPDATED, AuditSource.ZOOM),
        (AuditKind.UPDATED, AuditSource.ZOOM),
        (AuditKind.CHANGE_REFUSED, AuditSource.ZOOM),
        (AuditKind.UPDATED, AuditSource.JELLY),
        (AuditKind.DELETED, AuditSource.ZOOM),
    ]


def test_reassigning_recreates_the_meeting_under_the_new_host_and_keeps_one(
    committed,
    fake_zoom,
    auto_zoom,
    alice_zoom,
    paul_zoom,
    book,
    rita_receptionist,
    paul_practitioner,
    paul_hours,  # noqa: F811
):
    with committed():
        appointment = book(at(10))
    [first] = live_meetings(fake_zoom, appointment)

    with committed():
        appointment = diary.appointment_reschedule(
            actor=rita_receptionist,
            appointment=appointment,
            version=appointment.version,
            practitioner=paul_practitioner,
        )

    [second] = live_meetings(fake_zoom, appointment)
    assert second["host_id"] == paul_zoom and second["id"] != first["id"]
    assert first["id"] not in fake_zoom.meetings
    old, new = ZoomMeeting.objects.filter(appointment=appointment).order_by("created_at")
    assert (old.zoom_meeting_id, old.deleted_at is not None, old.retired_at is not None) == (first["id"], True, True)
    assert (new.zoom_meeting_id, new.is_live, new.host_zoom_user_id) == (second["id"], True, paul_zoom)
    assert kinds(appointment) == [
        (AuditKind.CREATED, AuditSource.JELLY),
        (AuditKind.CREATED, AuditSource.JELLY),
        (AuditKind.DELETED, AuditSource.JELLY),
    ]


def test_a_lost_answer_while_recreating_never_leaves_two_live_meetings(
    committed,
    fake_zoom,
    auto_zoom,
    alice_zoom,
    paul_zoom,
    book,
    rita_receptionist,
    paul_practitioner,
    paul_hours,  # noqa: F811
):
    with committed():
        appointment = book(at(10))
    # Zoom creates Paul's meeting but the answer never arrives; then the old one's delete fails.
    fake_zoom.chaos(1.0, kinds=("lost_answer",))
    with committed():
        appointment = diary.appointment_reschedule(
            actor=rita_receptionist,
            appointment=appointment,
            version=appointment.version,
            practitioner=paul_practitioner,
        )
    assert len(live_meetings(fake_zoom, appointment)) == 2  # in Zoom for now; Jelly knows one
    fake_zoom.chaos(0)

    for _ in range(3):  # retries, as the sweeper would
        OutboxEntry.objects.filter(destination=ZOOM_MEETING).update(next_attempt_at=datetime.datetime.now(UTC))
        outbox.drain()

    [meeting] = live_meetings(fake_zoom, appointment)
    assert meeting["host_id"] == paul_zoom
    assert len(fake_zoom.requests_to("POST", r"/users/.+/meetings")) == 2  # Alice's, Paul's: adopted, not remade
    assert ZoomMeeting.objects.get(appointment=appointment, retired_at__isnull=True).zoom_meeting_id == meeting["id"]
    assert not ZoomMeetingRequest.objects.get(appointment=appointment).create_started_for


def test_cancelling_in_jelly_deletes_the_meeting_and_its_webhook_is_an_echo(
    client, committed, fake_zoom, auto_zoom, alice_zoom, book, rita_receptionist
):
    with committed():
        appointment = book(at(10))
    [created] = live_meetings(fake_zoom, appointment)

    with committed():
        diary.appointment_cancel(actor=rita_receptionist, appointment=appointment, reason="Patient unwell")

    assert live_meetings(fake_zoom, appointment) == []
    with committed():
        send_webhook(
            client, fake_zoom.event("meeting.deleted", {"id": created["id"], "uuid": created["uuid"], "type": 2})
        )
    assert kinds(appointment) == [(AuditKind.CREATED, AuditSource.JELLY), (AuditKind.DELETED, AuditSource.JELLY)]
    assert Appointment.objects.get(pk=appointment.pk).cancellation_reason == "Patient unwell"
    assert django_mail.outbox == [] or all("Zoom" not in m.subject for m in django_mail.outbox)


def test_draining_twice_makes_one_meeting(committed, fake_zoom, auto_zoom, alice_zoom, book):
    with committed():
        appointment = book(at(10))
    OutboxEntry.objects.filter(destination=ZOOM_MEETING).update(status=OutboxStatus.PENDING)
    outbox.drain()
    outbox.drain()

    assert len(live_meetings(fake_zoom, appointment)) == 1
    assert len(fake_zoom.requests_to("POST", r"/users/.+/meetings")) == 1


def test_a_lost_create_answer_is_found_and_adopted_not_created_again(committed, fake_zoom, auto_zoom, alice_zoom, book):
    fake_zoom.chaos(1.0, kinds=("lost_answer",))
    with committed():
        appointment = book(at(10))
    fake_zoom.chaos(0)
    row = OutboxEntry.objects.get(destination=ZOOM_MEETING, appointment=appointment)
    assert (row.status, ZoomMeeting.objects.filter(appointment=appointment).count()) == (OutboxStatus.PENDING, 0)
    assert ZoomMeetingRequest.objects.get(appointment=appointment).create_started_for == alice_zoom

    row.next_attempt_at = datetime.datetime.now(UTC)
    row.save(update_fields=["next_attempt_at"])
    outbox.drain()

    [meeting] = live_meetings(fake_zoom, appointment)
    assert ZoomMeeting.objects.get(appointment=appointment).zoom_meeting_id == meeting["id"]
    assert len(fake_zoom.requests_to("POST", r"/users/.+/meetings")) == 1
    assert fake_zoom.requests_to("GET", r"/users/.+/meetings")[-1].query["type"] == ["scheduled"]


def test_an_in_person_appointment_gets_no_meeting_and_no_call(
    committed, fake_zoom, auto_zoom, alice_zoom, book, clinic
):
    from tests.diary.factories import ServiceFactory

    with committed():
        appointment = book(at(10), service=ServiceFactory(organisation=clinic, name="In clinic", is_telehealth=False))
    assert not OutboxEntry.objects.filter(destination=ZOOM_MEETING, appointment=appointment).exists()
    assert fake_zoom.requests_to(path="/v2/") == []


def test_without_auto_create_a_telehealth_booking_waits_for_staff(
    committed, fake_zoom, zoom_connection, alice_zoom, book
):
    with committed():
        appointment = book(at(10))
    assert not OutboxEntry.objects.filter(destination=ZOOM_MEETING, appointment=appointment).exists()
    assert fake_zoom.meetings == {}


def test_the_topic_follows_the_calendar_name_setting_and_carries_nothing_clinical(
    committed,
    fake_zoom,
    auto_zoom,
    alice_zoom,
    book,
    clinic,
    patient,  # noqa: F811
):
    IntegrationSettingsFactory(organisation=clinic, patient_name_display=PatientNameDisplay.INITIALS)
    with committed():
        appointment = book(at(10), notes="Knee pain since fall")
    [created] = live_meetings(fake_zoom, appointment)
    assert created["topic"] == "Video follow-up \u2013 J.S."
    body = fake_zoom.requests_to("POST", r"/users/.+/meetings")[0].body.decode()
    for secret in (patient.nhs_number, patient.date_of_birth.isoformat(), "Knee", "Smith", "John", str(appointment.pk)):
        assert secret not in body


def test_a_practitioner_without_a_zoom_user_blocks_until_linked(
    committed, fake_zoom, auto_zoom, book, alice_practitioner, django_capture_on_commit_callbacks
):
    with committed():
        appointment = book(at(10))
    row = OutboxEntry.objects.get(destination=ZOOM_MEETING, appointment=appointment)
    assert row.status == OutboxStatus.BLOCKED
    assert "no Zoom user linked" in row.last_error

    from integrations.zoom import services

    zoom_user_id = fake_zoom.add_user(alice_practitioner.email)
    with committed():
        services._user_links_store_matches(
            organisation=alice_practitioner.organisation,
            zoom_users=[services.ZoomUser(id=zoom_user_id, email=alice_practitioner.email)],
        )
    assert [m["host_id"] for m in live_meetings(fake_zoom, appointment)] == [zoom_user_id]


def test_rate_limits_back_off_honouring_retry_after(committed, fake_zoom, auto_zoom, alice_zoom, book):
    fake_zoom.inject(status=429, method="POST", path=r"/meetings$", headers={"Retry-After": "120"})
    before = datetime.datetime.now(UTC)
    with committed():
        appointment = book(at(10))
    row = OutboxEntry.objects.get(destination=ZOOM_MEETING, appointment=appointment)
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at >= before + datetime.timedelta(seconds=119)
    assert "429" in row.last_error


def test_a_401_after_a_refresh_blocks_and_breaks_the_connection_and_reconnecting_unblocks(
    committed, fake_zoom, auto_zoom, alice_zoom, book
):
    fake_zoom.inject(status=401, path=r"/meetings$", times=2)
    with committed():
        appointment = book(at(10))
    row = OutboxEntry.objects.get(destination=ZOOM_MEETING, appointment=appointment)
    assert row.status == OutboxStatus.BLOCKED
    assert ZoomConnection.objects.get().status == ConnectionStatus.BROKEN

    from integrations.zoom import oauth, services

    access, refresh = fake_zoom.issue_tokens()
    grant = oauth.TokenGrant(
        access_token=access,
        refresh_token=refresh,
        expires_at=datetime.datetime.now(UTC) + datetime.timedelta(hours=1),
    )
    with committed():
        services.connection_install(organisation=auto_zoom.organisation, grant=grant, staff=auto_zoom.connected_by)
    assert len(live_meetings(fake_zoom, appointment)) == 1
    assert OutboxEntry.objects.get(pk=row.pk).status == OutboxStatus.DONE


def test_zoom_refusing_the_meeting_dead_letters_the_row_with_its_reason(
    committed, fake_zoom, auto_zoom, alice_zoom, book
):
    fake_zoom.inject(status=400, method="POST", path=r"/meetings$", body={"code": 300, "message": "Invalid field."})
    with committed():
        appointment = book(at(10))
    row = OutboxEntry.objects.get(destination=ZOOM_MEETING, appointment=appointment)
    assert row.status == OutboxStatus.DEAD
    assert "Invalid field" in row.last_error


def test_a_meeting_gone_from_zoom_is_made_again_when_the_appointment_moves(
    committed, fake_zoom, auto_zoom, alice_zoom, book, rita_receptionist
):
    with committed():
        appointment = book(at(10))
    [first] = live_meetings(fake_zoom, appointment)
    with fake_zoom.lock:
        del fake_zoom.meetings[first["id"]]  # deleted in Zoom; its webhook never came

    with committed():
        diary.appointment_reschedule(
            actor=rita_receptionist, appointment=appointment, version=appointment.version, start=at(11)
        )

    [second] = live_meetings(fake_zoom, appointment)
    assert second["start_time"] == "2030-01-07T11:00:00Z"
    assert ZoomMeeting.objects.filter(appointment=appointment, deleted_at__isnull=True).count() == 1


def test_a_deletion_in_zoom_of_an_arrived_appointment_is_flagged_not_cancelled(
    client, committed, fake_zoom, auto_zoom, alice_zoom, book, rita_receptionist
):
    with committed():
        appointment = book(at(10))
    [created] = live_meetings(fake_zoom, appointment)
    with committed():
        diary.appointment_set_status(actor=rita_receptionist, appointment=appointment, status=AppointmentStatus.ARRIVED)

    with committed():
        send_webhook(client, fake_zoom.delete_in_zoom(created["id"]))

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.ARRIVED
    meeting = ZoomMeeting.objects.get(appointment=appointment)
    assert meeting.flagged_at is not None and "not cancelled" in meeting.flag_reason
    assert ZoomMeetingRequest.objects.get(appointment=appointment).withdrawn_at is not None
    assert fake_zoom.meetings == {}  # and no new meeting is made for it


def test_a_move_in_zoom_outside_the_practitioners_hours_is_refused_and_restored(
    client, committed, fake_zoom, auto_zoom, alice_zoom, book
):
    with committed():
        appointment = book(at(10))
    [created] = live_meetings(fake_zoom, appointment)

    with committed():
        send_webhook(client, fake_zoom.update_in_zoom(created["id"], start_time="2030-01-07T20:00:00Z"))

    appointment.refresh_from_db()
    assert appointment.start == at(10)
    assert live_meetings(fake_zoom, appointment)[0]["start_time"] == "2030-01-07T10:00:00Z"
    assert "outside" in ZoomMeeting.objects.get(appointment=appointment).flag_reason


def test_a_late_echo_of_an_earlier_patch_does_not_move_the_appointment_back(
    client, committed, fake_zoom, auto_zoom, alice_zoom, book, rita_receptionist
):
    with committed():
        appointment = book(at(10))
    [created] = live_meetings(fake_zoom, appointment)
    sent_at = int(datetime.datetime.now(UTC).timestamp() * 1000)
    with committed():
        appointment = diary.appointment_reschedule(
            actor=rita_receptionist, appointment=appointment, version=appointment.version, start=at(11)
        )
    with committed():
        appointment = diary.appointment_reschedule(
            actor=rita_receptionist, appointment=appointment, version=appointment.version, start=at(12)
        )
    # Zoom's webhook about the 11:00 PATCH arrives after the 12:00 one was sent.
    late = fake_zoom.event(
        "meeting.updated", {"id": created["id"], "start_time": "2030-01-07T11:00:00Z"}, time_stamp=sent_at
    )
    with committed():
        send_webhook(client, late)
    appointment.refresh_from_db()
    assert appointment.start == at(12)


def test_the_reconcile_re_marks_a_meeting_left_behind(committed, fake_zoom, auto_zoom, alice_zoom, book):
    from integrations.zoom import services

    with committed():
        appointment = book(at(10))
    # A refused change's restore lost a race with a push that had already read the meeting.
    ZoomMeeting.objects.filter(appointment=appointment).update(synced_start_time=at(15))
    assert services.zoom_meetings_reconcile() == 1
    with committed():
        pass
    outbox.drain()
    assert OutboxEntry.objects.get(appointment=appointment, destination=ZOOM_MEETING).status == OutboxStatus.DONE
    assert services.zoom_meetings_reconcile() == 0


def test_switching_auto_create_on_gives_upcoming_telehealth_appointments_their_meetings(
    committed, fake_zoom, zoom_connection, alice_zoom, book
):
    from integrations.zoom import services

    with committed():
        appointment = book(at(10))
    assert fake_zoom.meetings == {}
    with committed():
        services.connection_preferences_update(
            organisation=zoom_connection.organisation,
            retain_data_on_uninstall=False,
            create_users_with_cust_create=False,
            auto_create_for_telehealth=True,
        )
    assert len(live_meetings(fake_zoom, appointment)) == 1


def test_a_disconnected_organisation_calls_nothing(committed, fake_zoom, auto_zoom, alice_zoom, book):
    auto_zoom.status = ConnectionStatus.DISCONNECTED
    auto_zoom.save(update_fields=["status"])
    with committed():
        book(at(10))
    assert fake_zoom.requests_to(path="/v2/") == []


# --- Reinstating a cancelled appointment ----------------------------------------------------------


def reinstate(client, appointment):
    current = Appointment.objects.get(pk=appointment.pk)
    return client.post(reverse("diary:reinstate", kwargs={"pk": appointment.pk}), {"version": current.version})


def test_a_reinstated_telehealth_appointment_gets_a_new_meeting_when_they_are_automatic(
    client_for, committed, fake_zoom, auto_zoom, alice_zoom, book, rita_receptionist
):
    with committed():
        appointment = book(at(10))
    [first] = live_meetings(fake_zoom, appointment)
    with committed():
        diary.appointment_cancel(actor=rita_receptionist, appointment=appointment, version=1)
    assert live_meetings(fake_zoom, appointment) == []

    with committed():
        assert reinstate(client_for(rita_receptionist), appointment).status_code == 302

    [second] = live_meetings(fake_zoom, appointment)
    assert second["id"] != first["id"]
    assert (second["host_id"], second["start_time"], second["duration"]) == (alice_zoom, "2030-01-07T10:00:00Z", 30)
    old, new = ZoomMeeting.objects.filter(appointment=appointment).order_by("created_at")
    assert (old.zoom_meeting_id, old.deleted_at is not None) == (first["id"], True)  # kept on record
    assert (new.zoom_meeting_id, new.is_live) == (second["id"], True)
    assert kinds(appointment) == [
        (AuditKind.CREATED, AuditSource.JELLY),
        (AuditKind.DELETED, AuditSource.JELLY),
        (AuditKind.CREATED, AuditSource.JELLY),
    ]
    assert OutboxEntry.objects.get(destination=ZOOM_MEETING, appointment=appointment).status == OutboxStatus.DONE
    OutboxEntry.objects.filter(destination=ZOOM_MEETING).update(status=OutboxStatus.PENDING)
    outbox.drain()  # a second push changes nothing
    assert len(fake_zoom.requests_to("POST", r"/users/.+/meetings")) == 2


def test_a_meeting_deleted_by_its_host_comes_back_when_the_appointment_is_reinstated(
    client, client_for, committed, fake_zoom, auto_zoom, alice_zoom, book, rita_receptionist, alice_practitioner
):
    with committed():
        appointment = book(at(10))
    [deleted] = live_meetings(fake_zoom, appointment)
    with committed():
        send_webhook(client, fake_zoom.delete_in_zoom(deleted["id"]))
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == (
        AppointmentStatus.CANCELLED,
        "Zoom meeting deleted by host",
    )
    [notice] = [m for m in django_mail.outbox if m.to == [alice_practitioner.email]]
    assert "reinstate the appointment in the diary" in notice.body

    with committed():
        assert reinstate(client_for(rita_receptionist), appointment).status_code == 302

    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == (AppointmentStatus.BOOKED, "")
    [meeting] = live_meetings(fake_zoom, appointment)
    assert meeting["id"] != deleted["id"] and meeting["host_id"] == alice_zoom
    assert ZoomMeeting.objects.get(appointment=appointment, deleted_at__isnull=True).zoom_meeting_id == meeting["id"]
    assert kinds(appointment) == [
        (AuditKind.CREATED, AuditSource.JELLY),
        (AuditKind.DELETED, AuditSource.ZOOM),
        (AuditKind.CREATED, AuditSource.JELLY),
    ]


def test_without_auto_create_a_reinstated_appointment_waits_for_staff_to_ask_again(
    client_for, committed, fake_zoom, zoom_connection, alice_zoom, book, rita_receptionist
):
    rita = client_for(rita_receptionist)
    with committed():
        appointment = book(at(10))
    with committed():
        rita.post(reverse("zoom:appointment-create", kwargs={"appointment_pk": appointment.pk}))
    [first] = live_meetings(fake_zoom, appointment)
    with committed():
        diary.appointment_cancel(actor=rita_receptionist, appointment=appointment, version=1)
    creates = len(fake_zoom.requests_to("POST", r"/users/.+/meetings"))

    with committed():
        assert reinstate(rita, appointment).status_code == 302

    assert fake_zoom.meetings == {}
    assert len(fake_zoom.requests_to("POST", r"/users/.+/meetings")) == creates
    request = ZoomMeetingRequest.objects.get(appointment=appointment)
    assert (request.wanted, request.withdrawn_reason) == (False, REINSTATED_WITHOUT_MEETING)
    html = rita.get(reverse("diary:appointment", kwargs={"pk": appointment.pk})).content.decode()
    assert "No Zoom meeting." in html and "Create Zoom meeting" in html

    # Staff ask, as for any booking: a new meeting.
    with committed():
        rita.post(reverse("zoom:appointment-create", kwargs={"appointment_pk": appointment.pk}))
    [second] = live_meetings(fake_zoom, appointment)
    assert second["id"] != first["id"] and second["host_id"] == alice_zoom
    assert ZoomMeetingRequest.objects.get(appointment=appointment).wanted


def test_reinstated_before_its_meeting_was_deleted_the_meeting_simply_stays(
    client_for, fake_zoom, zoom_connection, alice_zoom, book, rita_receptionist, committed
):
    rita = client_for(rita_receptionist)
    with committed():
        appointment = book(at(10))
    with committed():
        rita.post(reverse("zoom:appointment-create", kwargs={"appointment_pk": appointment.pk}))
    [meeting] = live_meetings(fake_zoom, appointment)
    diary.appointment_cancel(actor=rita_receptionist, appointment=appointment, version=1)  # not pushed yet
    reinstate(rita, appointment)

    outbox.drain()

    assert [m["id"] for m in live_meetings(fake_zoom, appointment)] == [meeting["id"]]
    assert fake_zoom.requests_to("DELETE") == []
    assert ZoomMeetingRequest.objects.get(appointment=appointment).wanted
    assert kinds(appointment) == [(AuditKind.CREATED, AuditSource.JELLY)]


# --- A video appointment that becomes an in-person one ---------------------------------------------


def change_service(appointment, service, rita):
    current = Appointment.objects.get(pk=appointment.pk)
    return diary.appointment_reschedule(actor=rita, appointment=current, version=current.version, service=service)


@pytest.fixture
def in_clinic(clinic):
    from tests.diary.factories import ServiceFactory

    return ServiceFactory(organisation=clinic, name="In clinic", duration_minutes=30, is_telehealth=False)


def test_a_meeting_made_for_a_video_service_goes_when_the_service_becomes_in_person_and_comes_back(
    committed, fake_zoom, auto_zoom, alice_zoom, book, in_clinic, telehealth, rita_receptionist
):
    with committed():
        appointment = book(at(10))
    [first] = live_meetings(fake_zoom, appointment)

    with committed():
        change_service(appointment, in_clinic, rita_receptionist)
    assert live_meetings(fake_zoom, appointment) == []
    assert not ZoomMeeting.objects.filter(appointment=appointment, deleted_at__isnull=True).exists()
    assert OutboxEntry.objects.get(destination=ZOOM_MEETING, appointment=appointment).status == OutboxStatus.DONE

    with committed():  # a video appointment again: Jelly makes its meeting again, by itself
        change_service(appointment, telehealth, rita_receptionist)
    [again] = live_meetings(fake_zoom, appointment)
    assert again["id"] != first["id"]


def test_a_link_email_still_waiting_is_withdrawn_with_the_meeting(
    client_for, committed, fake_zoom, auto_zoom, alice_zoom, book, in_clinic, rita_receptionist, john
):
    with committed():
        appointment = book(at(10), patient=john)  # has an address and consents to email
    url = reverse("zoom:appointment-email-link", kwargs={"appointment_pk": appointment.pk})
    client_for(rita_receptionist).post(url, {"token": "click-1"})  # recorded; its send never queued
    django_mail.outbox.clear()

    with committed():
        change_service(appointment, in_clinic, rita_receptionist)
    from integrations import services as engine
    from integrations.choices import EmailKind, EmailStatus
    from integrations.models import EmailDelivery

    engine.emails_drain()
    assert not [m for m in django_mail.outbox if "video appointment link" in m.subject]
    link = EmailDelivery.objects.get(kind=EmailKind.ZOOM_LINK)
    assert link.status == EmailStatus.SKIPPED
    assert "no longer a video appointment" in link.skip_reason


def test_a_meeting_staff_asked_for_on_an_in_person_appointment_stays_when_its_service_changes(
    client_for, committed, fake_zoom, auto_zoom, alice_zoom, book, in_clinic, clinic, rita_receptionist
):
    from tests.diary.factories import ServiceFactory

    with committed():
        appointment = book(at(10), service=in_clinic)
    assert live_meetings(fake_zoom, appointment) == []
    with committed():  # Rita asks for one herself ("Create Zoom meeting")
        client_for(rita_receptionist).post(
            reverse("zoom:appointment-create", kwargs={"appointment_pk": appointment.pk})
        )
    [meeting] = live_meetings(fake_zoom, appointment)

    with committed():
        change_service(appointment, ServiceFactory(organisation=clinic, name="Home visit"), rita_receptionist)
    assert [m["id"] for m in live_meetings(fake_zoom, appointment)] == [meeting["id"]]
    assert ZoomMeetingRequest.objects.get(appointment=appointment).requested_by == rita_receptionist
