"""The patient's Zoom link follows the meeting: when an appointment gets a new meeting (another
practitioner, the old one vanished from Zoom, a reinstatement), a link email still waiting
carries the new link, and a patient already sent the old one is sent the new one, once.

Rita emails the link with the appointment's "Email Zoom link" button, reassigns and moves through
the diary's services; the outbox pushes to the fake Zoom over real HTTP; emails go through
Django's email backend. Tasks run after commit (`django_capture_on_commit_callbacks`).
"""

import datetime

import pytest
from django.core import mail as django_mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from diary import services as diary
from diary.models import Appointment
from integrations import outbox
from integrations import services as engine
from integrations.choices import ZOOM_LINK_KINDS, EmailKind, EmailStatus, OutboxStatus
from integrations.models import EmailDelivery, EmailTemplate, OutboxEntry
from integrations.zoom.choices import ZOOM_MEETING
from integrations.zoom.models import ZoomMeeting
from integrations.zoom.services import meeting_record_created
from tests.diary.conftest import alice_hours, at, paul_hours  # noqa: F401 - fixtures
from tests.integrations.factories import (
    PATIENT_EMAIL,
    IntegrationSettingsFactory,
)

pytestmark = pytest.mark.django_db

CHANGED = "Your video appointment link has changed"


@pytest.fixture
def appointment(
    rita_receptionist,
    john,
    alice_practitioner,
    telehealth,
    clinic_location,
    alice_hours,  # noqa: F811
    paul_hours,  # noqa: F811
    zoom_connection,
    alice_zoom,
    paul_zoom,
    client_for,
    committed,
):
    """John's video appointment with Alice at 10:00, its Zoom meeting made by Rita's click."""
    with committed():
        booked = diary.appointment_book(
            actor=rita_receptionist,
            patient=john,
            practitioner=alice_practitioner,
            service=telehealth,
            location=clinic_location,
            start=at(10),
        )
    with committed():
        client_for(rita_receptionist).post(reverse("zoom:appointment-create", kwargs={"appointment_pk": booked.pk}))
    django_mail.outbox.clear()  # the booking confirmation
    return booked


def email_link(client_for, staff, appointment, *, token="click-1"):
    """Rita's "Email Zoom link" click; the on-commit send is left to the caller."""
    url = reverse("zoom:appointment-email-link", kwargs={"appointment_pk": appointment.pk})
    return client_for(staff).post(url, {"token": token})


def live_meeting(appointment) -> ZoomMeeting:
    return ZoomMeeting.objects.get(appointment=appointment, retired_at__isnull=True, deleted_at__isnull=True)


def link_emails() -> list:
    return [m for m in django_mail.outbox if "video appointment link" in m.subject]


def reassign_to(staff, appointment, rita):
    appointment = Appointment.objects.get(pk=appointment.pk)
    return diary.appointment_reschedule(
        actor=rita, appointment=appointment, version=appointment.version, practitioner=staff
    )


def test_a_patient_sent_the_link_gets_the_new_one_once_when_the_practitioner_changes(
    client_for, committed, appointment, rita_receptionist, paul_practitioner, paul_zoom, fake_zoom
):
    with committed():
        email_link(client_for, rita_receptionist, appointment)
    old = live_meeting(appointment)
    [first] = link_emails()
    assert old.join_url in first.body
    django_mail.outbox.clear()

    with committed():
        reassign_to(paul_practitioner, appointment, rita_receptionist)

    new = live_meeting(appointment)
    assert new.host_zoom_user_id == paul_zoom and new.join_url != old.join_url
    [changed] = link_emails()
    assert changed.to == [PATIENT_EMAIL]
    assert changed.subject == CHANGED
    assert new.join_url in changed.body
    assert old.join_url not in changed.body
    assert "Monday 7 January 2030 at 10:00" in changed.body
    assert "Video follow-up" not in changed.body  # nothing about the care itself
    record = EmailDelivery.objects.get(kind=EmailKind.ZOOM_LINK_CHANGED)
    assert (record.appointment_id, record.status) == (appointment.pk, EmailStatus.SENT)
    assert str(new.zoom_meeting_id) in record.dedupe_key
    assert old.zoom_meeting_id not in fake_zoom.meetings

    # Pushing the appointment again (a retry, the reconcile) changes nothing for the patient.
    OutboxEntry.objects.filter(destination=ZOOM_MEETING).update(status=OutboxStatus.PENDING)
    with committed():
        outbox.drain()
    assert link_emails() == [changed]


def test_a_link_email_still_waiting_carries_the_new_link_and_no_second_email_goes(
    client_for, committed, appointment, rita_receptionist, paul_practitioner
):
    email_link(client_for, rita_receptionist, appointment)  # recorded; its send never queued
    old = live_meeting(appointment)
    [waiting] = EmailDelivery.objects.filter(kind=EmailKind.ZOOM_LINK)
    assert waiting.status == EmailStatus.PENDING

    with committed():
        reassign_to(paul_practitioner, appointment, rita_receptionist)
    engine.emails_drain()  # the sweeper sends what is due

    new = live_meeting(appointment)
    [message] = link_emails()
    assert message.subject == "Your video appointment link"
    assert new.join_url in message.body
    assert old.join_url not in message.body
    assert list(EmailDelivery.objects.filter(kind__in=ZOOM_LINK_KINDS).values_list("kind", "status")) == [
        (EmailKind.ZOOM_LINK, EmailStatus.SENT)
    ]


def test_a_patient_never_sent_the_link_is_not_emailed_about_a_new_one(
    committed, appointment, rita_receptionist, paul_practitioner
):
    old = live_meeting(appointment)
    with committed():
        reassign_to(paul_practitioner, appointment, rita_receptionist)

    assert live_meeting(appointment).zoom_meeting_id != old.zoom_meeting_id
    assert link_emails() == []
    assert not EmailDelivery.objects.filter(kind__in=ZOOM_LINK_KINDS).exists()


def test_lost_answers_while_replacing_the_meeting_still_send_the_new_link_once(
    client_for, committed, appointment, rita_receptionist, paul_practitioner, paul_zoom, fake_zoom
):
    with committed():
        email_link(client_for, rita_receptionist, appointment)
    django_mail.outbox.clear()
    # Zoom makes Paul's meeting but its answer is lost; then every answer is lost for a while.
    fake_zoom.chaos(1.0, kinds=("lost_answer",))
    with committed():
        reassign_to(paul_practitioner, appointment, rita_receptionist)
    assert link_emails() == []
    fake_zoom.chaos(0)

    for _ in range(3):  # retries, as the sweeper would
        OutboxEntry.objects.filter(destination=ZOOM_MEETING).update(next_attempt_at=timezone.now())
        with committed():
            outbox.drain()

    new = live_meeting(appointment)
    assert new.host_zoom_user_id == paul_zoom
    [changed] = link_emails()
    assert new.join_url in changed.body
    assert EmailDelivery.objects.filter(kind=EmailKind.ZOOM_LINK_CHANGED).count() == 1


def test_a_meeting_gone_from_zoom_is_made_again_and_the_patient_gets_its_link(
    client_for, committed, appointment, rita_receptionist, fake_zoom
):
    with committed():
        email_link(client_for, rita_receptionist, appointment)
    old = live_meeting(appointment)
    django_mail.outbox.clear()
    with fake_zoom.lock:
        del fake_zoom.meetings[old.zoom_meeting_id]  # deleted in Zoom; its webhook never came

    with committed():
        appointment = Appointment.objects.get(pk=appointment.pk)
        diary.appointment_reschedule(
            actor=rita_receptionist, appointment=appointment, version=appointment.version, start=at(11)
        )

    new = live_meeting(appointment)
    [changed] = link_emails()
    assert changed.subject == CHANGED
    assert new.join_url in changed.body and old.join_url not in changed.body
    assert "Monday 7 January 2030 at 11:00" in changed.body


def test_a_reinstated_appointments_new_meeting_is_emailed_to_a_patient_sent_the_old_link(
    client_for, committed, appointment, rita_receptionist, fake_zoom
):
    with committed():
        email_link(client_for, rita_receptionist, appointment)
    old = live_meeting(appointment)
    with committed():
        current = Appointment.objects.get(pk=appointment.pk)
        diary.appointment_cancel(actor=rita_receptionist, appointment=current, version=current.version)
    assert old.zoom_meeting_id not in fake_zoom.meetings
    with committed():
        current = Appointment.objects.get(pk=appointment.pk)
        diary.appointment_reinstate(actor=rita_receptionist, appointment=current, version=current.version)
    django_mail.outbox.clear()

    with committed():  # no automatic meetings here: Rita asks for one again
        client_for(rita_receptionist).post(
            reverse("zoom:appointment-create", kwargs={"appointment_pk": appointment.pk})
        )

    [changed] = link_emails()
    assert changed.subject == CHANGED
    assert live_meeting(appointment).join_url in changed.body and old.join_url not in changed.body


@pytest.mark.parametrize("appointment_emails", [True, False])
def test_a_link_email_still_waiting_when_the_appointment_is_cancelled_is_not_sent(
    appointment_emails, client_for, committed, appointment, rita_receptionist
):
    IntegrationSettingsFactory(organisation=appointment.organisation, appointment_emails_enabled=appointment_emails)
    email_link(client_for, rita_receptionist, appointment)  # recorded; its send never queued

    with committed():
        current = Appointment.objects.get(pk=appointment.pk)
        diary.appointment_cancel(actor=rita_receptionist, appointment=current, version=current.version)
    engine.emails_drain()

    assert link_emails() == []
    assert EmailDelivery.objects.get(kind=EmailKind.ZOOM_LINK).status == EmailStatus.SKIPPED


def new_meeting_for(appointment, host, number):
    """What the push records once Zoom has made a new meeting (the old one retired with it)."""
    from integrations.zoom.client import ZoomMeetingDetails

    details = ZoomMeetingDetails(
        id=number,
        uuid=f"uuid-{number}",
        host_id=host,
        topic="Video follow-up",
        start_time=appointment.start,
        duration_minutes=30,
        join_url=f"https://zoom.test/j/{number}?pwd=new",
        timezone="Europe/London",
    )
    return meeting_record_created(
        organisation=appointment.organisation,
        details=details,
        appointment=appointment,
        replacing=live_meeting(appointment),
    )


@pytest.mark.parametrize("state", ["cancelled", "started"])
def test_nothing_is_sent_for_a_cancelled_or_started_appointment(
    state, client_for, committed, appointment, rita_receptionist, paul_zoom
):
    with committed():
        email_link(client_for, rita_receptionist, appointment)
    django_mail.outbox.clear()
    stale = Appointment.objects.get(pk=appointment.pk)  # the push's copy, loaded before the change
    if state == "cancelled":
        current = Appointment.objects.get(pk=appointment.pk)
        diary.appointment_cancel(actor=rita_receptionist, appointment=current, version=current.version)
    else:
        Appointment.objects.filter(pk=appointment.pk).update(
            start=timezone.now() - datetime.timedelta(minutes=5), end=timezone.now() + datetime.timedelta(minutes=25)
        )

    with committed():
        new_meeting_for(stale, paul_zoom, 99000000001)

    assert link_emails() == []
    assert not EmailDelivery.objects.filter(kind=EmailKind.ZOOM_LINK_CHANGED).exists()


def test_the_new_link_email_is_undone_with_the_meetings_record(
    client_for, committed, appointment, rita_receptionist, paul_zoom
):
    with committed():
        email_link(client_for, rita_receptionist, appointment)

    with pytest.raises(RuntimeError), transaction.atomic():
        new_meeting_for(appointment, paul_zoom, 99000000002)
        assert EmailDelivery.objects.filter(kind=EmailKind.ZOOM_LINK_CHANGED).count() == 1
        raise RuntimeError("the worker died before commit")

    assert not ZoomMeeting.objects.filter(zoom_meeting_id=99000000002).exists()
    assert not EmailDelivery.objects.filter(kind=EmailKind.ZOOM_LINK_CHANGED).exists()


def test_a_clinics_video_link_template_must_show_the_link(clinic):
    template = EmailTemplate(
        organisation=clinic, kind=EmailKind.ZOOM_LINK_CHANGED, subject="New link", body="Dear {{ patient_name }}"
    )
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    assert "join_url" in str(error.value)
    template.body = "Dear {{ patient_name }}, join here: {{join_url}}"
    template.full_clean()


def test_a_link_email_still_waiting_when_the_appointment_moves_says_the_new_time(
    client_for, committed, appointment, rita_receptionist
):
    email_link(client_for, rita_receptionist, appointment)  # recorded; its send never queued
    meeting = live_meeting(appointment)

    with committed():
        current = Appointment.objects.get(pk=appointment.pk)
        diary.appointment_reschedule(
            actor=rita_receptionist, appointment=current, version=current.version, start=at(14)
        )
    engine.emails_drain()

    [message] = link_emails()
    assert "Monday 7 January 2030 at 14:00" in message.body
    assert "10:00" not in message.body
    assert live_meeting(appointment).join_url == meeting.join_url  # moved in Zoom, same link
    assert meeting.join_url in message.body
    assert EmailDelivery.objects.get(kind=EmailKind.ZOOM_LINK).appointment_start == at(14)
