"""The Zoom panel on an appointment and its buttons: create, start, email the link, dismiss a
flag; and the attendance derived from who joined and left."""

import datetime

import pytest
from django.core import mail as django_mail
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from diary import services as diary
from integrations.choices import EmailKind, EmailStatus
from integrations.models import EmailDelivery
from integrations.zoom.choices import AuditKind, AuditSource
from integrations.zoom.models import ZoomAuditEntry, ZoomMeeting
from integrations.zoom.selectors import attendance_from
from tests.diary.conftest import alice_hours, at  # noqa: F401 - fixtures
from tests.integrations.factories import PATIENT_EMAIL
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment(
    rita_receptionist,
    john,
    alice_practitioner,
    telehealth,
    clinic_location,
    alice_hours,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    """A telehealth appointment of an organisation that creates meetings only when asked."""
    with django_capture_on_commit_callbacks(execute=True):
        booked = diary.appointment_book(
            actor=rita_receptionist,
            patient=john,
            practitioner=alice_practitioner,
            service=telehealth,
            location=clinic_location,
            start=at(10),
        )
    django_mail.outbox.clear()  # the booking confirmation
    return booked


def url(name, appointment):
    return reverse(f"zoom:{name}", kwargs={"appointment_pk": appointment.pk})


def post(client, name, appointment, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(url(name, appointment), data)


def test_rita_creates_the_meeting_from_the_appointment(
    client_for,
    rita_receptionist,
    appointment,
    zoom_connection,
    alice_zoom,
    fake_zoom,
    django_capture_on_commit_callbacks,
):
    response = post(
        client_for(rita_receptionist), "appointment-create", appointment, django_capture_on_commit_callbacks
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("diary:appointment", kwargs={"pk": appointment.pk})
    meeting = ZoomMeeting.objects.get(appointment=appointment)
    assert meeting.host_zoom_user_id == alice_zoom
    assert list(fake_zoom.meetings) == [meeting.zoom_meeting_id]


def test_asking_twice_makes_one_meeting(
    client_for,
    rita_receptionist,
    appointment,
    zoom_connection,
    alice_zoom,
    fake_zoom,
    django_capture_on_commit_callbacks,
):
    client = client_for(rita_receptionist)
    post(client, "appointment-create", appointment, django_capture_on_commit_callbacks)
    post(client, "appointment-create", appointment, django_capture_on_commit_callbacks)

    assert len(fake_zoom.meetings) == 1


def test_alice_starts_the_call_as_host_with_a_fresh_start_link(
    client_for,
    alice_practitioner,
    appointment,
    zoom_connection,
    alice_zoom,
    fake_zoom,
    django_capture_on_commit_callbacks,
):
    response = post(
        client_for(alice_practitioner), "appointment-start", appointment, django_capture_on_commit_callbacks
    )

    meeting = ZoomMeeting.objects.get(appointment=appointment)
    assert response.status_code == 302
    assert response["Location"] == fake_zoom.meetings[meeting.zoom_meeting_id]["start_url"]
    assert fake_zoom.requests_to("GET", rf"/meetings/{meeting.zoom_meeting_id}$")
    assert "zak=" not in str(ZoomMeeting.objects.filter(pk=meeting.pk).values().get())


def test_rita_starting_the_call_gets_the_join_link_not_the_hosts(
    client_for,
    rita_receptionist,
    appointment,
    zoom_connection,
    alice_zoom,
    fake_zoom,
    django_capture_on_commit_callbacks,
):
    response = post(client_for(rita_receptionist), "appointment-start", appointment, django_capture_on_commit_callbacks)

    assert response["Location"] == ZoomMeeting.objects.get(appointment=appointment).join_url


def test_the_zoom_link_is_emailed_to_the_patient_once_per_click(
    client_for,
    rita_receptionist,
    appointment,
    zoom_connection,
    alice_zoom,
    fake_zoom,
    django_capture_on_commit_callbacks,
):
    client = client_for(rita_receptionist)
    post(client, "appointment-email-link", appointment, django_capture_on_commit_callbacks, token="click-1")
    post(client, "appointment-email-link", appointment, django_capture_on_commit_callbacks, token="click-1")

    meeting = ZoomMeeting.objects.get(appointment=appointment)
    [message] = django_mail.outbox
    assert message.to == [PATIENT_EMAIL]
    assert meeting.join_url in message.body
    assert "zak=" not in message.body
    assert "Monday 7 January 2030 at 10:00" in message.body
    assert message.subject == "Your video appointment link"
    assert "Video follow-up" not in message.body  # nothing about the care itself
    delivery = EmailDelivery.objects.get(appointment=appointment, kind=EmailKind.ZOOM_LINK)
    assert (delivery.status, delivery.patient) == (EmailStatus.SENT, appointment.patient)


def test_without_consent_the_link_is_not_emailed_and_staff_are_told_why(
    client_for,
    rita_receptionist,
    zoom_connection,
    alice_zoom,
    alice_practitioner,
    telehealth,
    clinic_location,
    alice_hours,  # noqa: F811
    clinic,
    django_capture_on_commit_callbacks,
):
    patient = PatientFactory(organisation=clinic, email="no.consent@patients.test")
    booked = diary.appointment_book(
        actor=rita_receptionist,
        patient=patient,
        practitioner=alice_practitioner,
        service=telehealth,
        location=clinic_location,
        start=at(11),
    )
    client = client_for(rita_receptionist)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("appointment-email-link", booked), {"token": "t"}, follow=True)

    assert django_mail.outbox == []
    assert "not emailed" in response.content.decode()
    assert "consented" in response.content.decode()


def test_another_organisation_cannot_touch_our_appointment(
    client_for, olga_other, appointment, zoom_connection, alice_zoom, fake_zoom
):
    client = client_for(olga_other)
    for name in ("appointment-create", "appointment-start", "appointment-email-link", "appointment-dismiss-flag"):
        assert client.post(url(name, appointment), {"token": "t"}).status_code == 404
    assert fake_zoom.meetings == {}


def test_anonymous_visitors_are_sent_to_sign_in(client, appointment):
    response = client.post(url("appointment-create", appointment))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_cancelled_appointment_gets_no_meeting(
    client_for,
    rita_receptionist,
    appointment,
    zoom_connection,
    alice_zoom,
    fake_zoom,
    django_capture_on_commit_callbacks,
):
    diary.appointment_cancel(actor=rita_receptionist, appointment=appointment)
    response = post(
        client_for(rita_receptionist), "appointment-create", appointment, django_capture_on_commit_callbacks
    )

    assert response.status_code == 302
    assert fake_zoom.meetings == {}


def test_a_flag_is_shown_in_the_panel_and_the_audit_list_until_dismissed(
    client_for,
    adam_admin,
    rita_receptionist,
    appointment,
    zoom_connection,
    alice_zoom,
    django_capture_on_commit_callbacks,
):
    post(client_for(rita_receptionist), "appointment-create", appointment, django_capture_on_commit_callbacks)
    ZoomMeeting.objects.filter(appointment=appointment).update(
        flagged_at=datetime.datetime.now(datetime.UTC), flag_reason="Moved in Zoom; not applied: already booked."
    )

    assert "already booked" in render_panel(rita_receptionist, appointment)
    assert "already booked" in client_for(adam_admin).get(reverse("zoom:audit")).content.decode()

    post(client_for(rita_receptionist), "appointment-dismiss-flag", appointment, django_capture_on_commit_callbacks)
    assert "already booked" not in render_panel(rita_receptionist, appointment)


def render_panel(user, appointment) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template('{% include "zoom/appointment_panel.html" %}').render(
        Context({"appointment": appointment, "request": request})
    )


def test_the_panel_shows_the_link_the_actions_the_audit_and_the_attendance(
    rita_receptionist, appointment, zoom_connection, alice_zoom, django_capture_on_commit_callbacks, client_for
):
    post(client_for(rita_receptionist), "appointment-create", appointment, django_capture_on_commit_callbacks)
    meeting = ZoomMeeting.objects.get(appointment=appointment)
    base = at(10)
    for minutes, kind, name in (
        (0, AuditKind.HOST_JOINED, "Alice"),
        (2, AuditKind.PARTICIPANT_JOINED, "John S"),
        (27, AuditKind.PARTICIPANT_LEFT, "John S"),
        (28, AuditKind.HOST_LEFT, "Alice"),
    ):
        ZoomAuditEntry.objects.create(
            organisation=appointment.organisation,
            meeting=meeting,
            zoom_meeting_id=meeting.zoom_meeting_id,
            kind=kind,
            source=AuditSource.ZOOM,
            occurred_at=base + datetime.timedelta(minutes=minutes),
            participant_display_name=name,
        )

    html = render_panel(rita_receptionist, appointment)

    assert meeting.join_url in html
    assert "Start Zoom call" in html and "Email Zoom link" in html
    assert "Create Zoom meeting" not in html
    assert "Participant joined" in html and "John S" in html
    assert "together for 25 min" in html


def test_the_panel_shows_nothing_for_an_organisation_without_zoom(rita_receptionist, appointment):
    assert render_panel(rita_receptionist, appointment).strip() == ""


def test_the_panel_shows_nothing_of_another_organisation(olga_other, appointment, zoom_connection):
    assert render_panel(olga_other, appointment).strip() == ""


# --- Attendance ------------------------------------------------------------------------------------


def entry(kind, minute):
    return ZoomAuditEntry(kind=kind, occurred_at=at(10) + datetime.timedelta(minutes=minute))


def test_attendance_is_the_time_practitioner_and_patient_were_in_together():
    entries = [
        entry(AuditKind.PARTICIPANT_JOINED, 0),  # the patient waits for the practitioner
        entry(AuditKind.HOST_JOINED, 5),
        entry(AuditKind.PARTICIPANT_LEFT, 10),  # drops out…
        entry(AuditKind.PARTICIPANT_JOINED, 12),  # …and comes back
        entry(AuditKind.HOST_LEFT, 30),
        entry(AuditKind.PARTICIPANT_LEFT, 31),
    ]
    attendance = attendance_from(entries)
    assert attendance.overlap == datetime.timedelta(minutes=23)
    assert (attendance.practitioner_joined, attendance.patient_joined, attendance.ongoing) == (True, True, False)


def test_no_overlap_when_they_missed_each_other():
    attendance = attendance_from(
        [
            entry(AuditKind.HOST_JOINED, 0),
            entry(AuditKind.HOST_LEFT, 5),
            entry(AuditKind.PARTICIPANT_JOINED, 6),
            entry(AuditKind.PARTICIPANT_LEFT, 9),
        ]
    )
    assert not attendance.overlapped


def test_a_meeting_that_ended_closes_everyone_and_an_unmatched_leave_changes_nothing():
    attendance = attendance_from(
        [
            entry(AuditKind.PARTICIPANT_LEFT, 0),  # a leave whose join was lost
            entry(AuditKind.HOST_JOINED, 1),
            entry(AuditKind.PARTICIPANT_JOINED, 2),
            entry(AuditKind.ENDED, 20),
        ]
    )
    assert attendance.overlap == datetime.timedelta(minutes=18)
    assert not attendance.ongoing


def test_someone_still_in_counts_until_now():
    attendance = attendance_from(
        [entry(AuditKind.HOST_JOINED, 0), entry(AuditKind.PARTICIPANT_JOINED, 0)],
        now=at(10) + datetime.timedelta(minutes=7),
    )
    assert (attendance.overlap, attendance.ongoing) == (datetime.timedelta(minutes=7), True)


def test_no_attendance_before_anyone_joined():
    assert attendance_from([entry(AuditKind.STARTED, 0)]) is None
