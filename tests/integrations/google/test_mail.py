"""Patient email: the clinic's templates, sent through the practitioner's Gmail (send-only) or
the clinic's designated sender, else Django's email backend; never twice; nothing kept after
sending but a content-free record; skipped, with the reason, without email or consent.
"""

import datetime
import threading

import pytest
from django.core import mail as django_mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from diary import services as diary
from integrations import services
from integrations.choices import EmailKind, EmailStatus, EmailTransport
from integrations.google.choices import CALENDAR_SCOPE, GMAIL_SEND_SCOPE, ConnectionStatus
from integrations.google.models import GoogleConnection
from integrations.models import EmailDelivery, EmailTemplate, OutgoingEmail
from tests.diary.conftest import alice_hours, at, follow_up  # noqa: F401 - fixtures
from tests.fakes.google import Fault
from tests.integrations.factories import (
    PATIENT_EMAIL,
    IntegrationSettingsFactory,
    consent_to_email,
    google_connection_at,
)
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db

ALICE_GOOGLE = "alice.mail@gmail.test"
RITA_GOOGLE = "clinic.front.desk@gmail.test"


@pytest.fixture
def alice_gmail(fake_google, alice_practitioner):
    return google_connection_at(fake_google, alice_practitioner, account=ALICE_GOOGLE)


@pytest.fixture
def book(rita_receptionist, john, alice_practitioner, follow_up, clinic_location, alice_hours):  # noqa: F811
    def make(start=None, **overrides):
        values = {
            "actor": rita_receptionist,
            "patient": john,
            "practitioner": alice_practitioner,
            "service": follow_up,
            "location": clinic_location,
            "start": start or at(9),
        }
        values.update(overrides)
        return diary.appointment_book(**values)

    return make


def sent(fake):
    return [(m.account, m.message["To"], m.message["Subject"]) for m in fake.sent]


def test_a_booking_confirmation_goes_through_the_practitioners_gmail_and_only_a_record_remains(
    fake_google, alice_gmail, book, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book()
    assert sent(fake_google) == [(ALICE_GOOGLE, PATIENT_EMAIL, "Your appointment on Monday 7 January 2030 at 09:00")]
    body = fake_google.sent[0].message.get_content()
    assert "Dear John," in body and "Follow-up appointment with Alice" in body and "Bath High Street" in body
    delivery = EmailDelivery.objects.get(appointment=appointment)
    assert (delivery.kind, delivery.status, delivery.transport) == (
        EmailKind.CONFIRMATION,
        EmailStatus.SENT,
        EmailTransport.GMAIL,
    )
    assert delivery.sent_at is not None
    assert not OutgoingEmail.objects.exists()  # the rendered message is gone once Gmail took it
    assert services.emails_drain() == {}  # and nothing is sent twice
    assert len(fake_google.sent) == 1


def test_a_clinic_with_appointment_emails_off_records_no_email_for_a_booking(
    fake_google, alice_gmail, clinic, book, django_capture_on_commit_callbacks
):
    IntegrationSettingsFactory(organisation=clinic, appointment_emails_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book()
    assert not EmailDelivery.objects.filter(appointment=appointment).exists()
    assert fake_google.sent == []


def test_gmail_is_asked_for_send_only(fake_google, alice_gmail, book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        book()
    (request,) = fake_google.requests_to("/gmail/v1/")
    assert (request.method, request.path) == ("POST", "/gmail/v1/users/me/messages/send")
    assert set(request.json()) == {"raw"}


@pytest.mark.parametrize(
    ("email", "consent", "reason"),
    [
        ("", True, "The patient has no email address."),
        (PATIENT_EMAIL, False, "The patient has not consented to email (email_communications)."),
    ],
)
def test_without_an_address_or_consent_nothing_is_sent_and_the_reason_is_recorded(
    email,
    consent,
    reason,
    fake_google,
    alice_gmail,
    clinic,
    alice_practitioner,
    book,
    django_capture_on_commit_callbacks,
):
    patient = PatientFactory(organisation=clinic, email=email)
    if consent:
        consent_to_email(patient, alice_practitioner)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(patient=patient)
    delivery = EmailDelivery.objects.get(appointment=appointment)
    assert (delivery.status, delivery.skip_reason) == (EmailStatus.SKIPPED, reason)
    assert fake_google.sent == [] and django_mail.outbox == []
    assert not OutgoingEmail.objects.exists()


def test_a_withdrawn_consent_stops_email(
    fake_google, alice_gmail, john, alice_practitioner, book, django_capture_on_commit_callbacks
):
    from privacy.choices import ConsentDecision, ConsentPurpose, RecordingMethod
    from privacy.services import consent_record

    consent_record(
        patient=john,
        purpose=ConsentPurpose.EMAIL_COMMUNICATIONS,
        decision=ConsentDecision.WITHDRAWN,
        method=RecordingMethod.VERBAL,
        recorded_by=alice_practitioner,
    )
    with django_capture_on_commit_callbacks(execute=True):
        book()
    assert EmailDelivery.objects.get().status == EmailStatus.SKIPPED
    assert fake_google.sent == []


def test_without_the_practitioners_gmail_the_clinics_designated_sender_is_used(
    fake_google, clinic, rita_receptionist, book, django_capture_on_commit_callbacks
):
    google_connection_at(fake_google, rita_receptionist, account=RITA_GOOGLE, scopes=(GMAIL_SEND_SCOPE,))
    IntegrationSettingsFactory(organisation=clinic, clinic_sender=rita_receptionist)
    with django_capture_on_commit_callbacks(execute=True):
        book()
    assert [account for account, _, _ in sent(fake_google)] == [RITA_GOOGLE]


def test_without_any_gmail_djangos_email_backend_sends_it(
    fake_google, fake_google_calendar_only, book, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book()
    assert fake_google.sent == []
    assert [m.to for m in django_mail.outbox] == [[PATIENT_EMAIL]]
    assert EmailDelivery.objects.get(appointment=appointment).transport == EmailTransport.BACKEND


@pytest.fixture
def fake_google_calendar_only(fake_google, alice_practitioner):
    return google_connection_at(fake_google, alice_practitioner, account=ALICE_GOOGLE, scopes=(CALENDAR_SCOPE,))


def test_the_clinics_own_template_is_used(fake_google, alice_gmail, clinic, book, django_capture_on_commit_callbacks):
    EmailTemplate.objects.create(
        organisation=clinic,
        kind=EmailKind.CONFIRMATION,
        subject="Booked with {{ clinic }}: {{ date }}",
        body="Hi {{ patient_first_name }}! {{ service }} at {{ time }}-{{ end_time }}. {{ patient.nhs_number }}",
    )
    with django_capture_on_commit_callbacks(execute=True):
        book()
    message = fake_google.sent[0].message
    assert message["Subject"] == "Booked with Bath Physio: Monday 7 January 2030"
    assert message.get_content().strip() == "Hi John! Follow-up at 09:00-09:30."  # no model objects to reach into


@pytest.mark.parametrize(
    "text",
    ["{% load static %}hi", "{% include 'base.html' %}", "{% if %}", "{% debug %}", "{{ name|no_such_filter }}"],
)
def test_templates_that_could_reach_outside_their_placeholders_are_refused(text, clinic):
    template = EmailTemplate(organisation=clinic, kind=EmailKind.REMINDER, subject="Reminder", body=text)
    with pytest.raises(ValidationError):
        template.full_clean()


def test_the_same_email_is_never_recorded_twice(book, john):
    appointment = book()
    with pytest.raises(IntegrityError), transaction.atomic():
        EmailDelivery.objects.create(
            organisation=john.organisation,
            dedupe_key=f"confirmation:{appointment.pk}",
            kind=EmailKind.CONFIRMATION,
            patient=john,
        )


def test_changes_before_sending_coalesce_into_one_message_of_the_latest_state(
    fake_google, alice_gmail, book, rita_receptionist
):
    appointment = book()
    for minutes in (30, 60, 90):
        appointment = diary.appointment_reschedule(
            actor=rita_receptionist,
            appointment=appointment,
            version=appointment.version,
            start=at(9) + datetime.timedelta(minutes=minutes),
        )
    services.emails_drain()
    assert sent(fake_google) == [(ALICE_GOOGLE, PATIENT_EMAIL, "Your appointment on Monday 7 January 2030 at 10:30")]

    diary.appointment_reschedule(actor=rita_receptionist, appointment=appointment, version=4, start=at(11))
    diary.appointment_reschedule(actor=rita_receptionist, appointment=appointment, version=5, start=at(12))
    services.emails_drain()
    assert [subject for _, _, subject in sent(fake_google)][1:] == [
        "Your appointment has changed: Monday 7 January 2030 at 12:00"
    ]
    diary.appointment_cancel(actor=rita_receptionist, appointment=appointment, version=6)
    services.emails_drain()
    assert sent(fake_google)[-1][2] == "Your appointment on Monday 7 January 2030 is cancelled"
    assert len(fake_google.sent) == 3


def test_a_booking_cancelled_before_its_confirmation_went_sends_nothing(
    fake_google, alice_gmail, book, rita_receptionist
):
    appointment = book()
    diary.appointment_cancel(actor=rita_receptionist, appointment=appointment, version=1)
    assert services.emails_drain() == {}
    assert fake_google.sent == []
    delivery = EmailDelivery.objects.get()
    assert delivery.status == EmailStatus.SKIPPED and delivery.skip_reason.startswith("Superseded")
    assert not OutgoingEmail.objects.exists()


# --- Reminders --------------------------------------------------------------------------------


def test_a_reminder_is_sent_once_n_hours_before(fake_google, alice_gmail, book, clinic):
    IntegrationSettingsFactory(organisation=clinic, reminder_hours_before=48)
    appointment = book()
    services.emails_drain()  # the confirmation
    too_early = appointment.start - datetime.timedelta(hours=49)
    assert services.reminders_enqueue_due(now=too_early) == 0
    due = appointment.start - datetime.timedelta(hours=47)
    assert services.reminders_enqueue_due(now=due) == 1
    assert services.reminders_enqueue_due(now=due) == 0  # the next beat run
    assert services.reminders_enqueue_due(now=due + datetime.timedelta(hours=1)) == 0
    services.emails_drain()
    subjects = [subject for _, _, subject in sent(fake_google)]
    assert subjects == [
        "Your appointment on Monday 7 January 2030 at 09:00",
        "Reminder: your appointment on Monday 7 January 2030 at 09:00",
    ]


def test_no_reminder_for_a_cancelled_appointment(fake_google, alice_gmail, book, rita_receptionist):
    cancelled = book()
    diary.appointment_cancel(actor=rita_receptionist, appointment=cancelled, version=1)
    assert services.reminders_enqueue_due(now=cancelled.start - datetime.timedelta(hours=2)) == 0


def test_a_reminder_recorded_before_a_cancellation_is_not_sent(fake_google, alice_gmail, book, rita_receptionist):
    appointment = book()
    services.emails_drain()
    assert services.reminders_enqueue_due(now=appointment.start - datetime.timedelta(hours=2)) == 1
    diary.appointment_cancel(actor=rita_receptionist, appointment=appointment, version=1)
    services.emails_drain()
    subjects = [subject for _, _, subject in sent(fake_google)]
    assert not any(subject.startswith("Reminder") for subject in subjects)
    assert subjects[-1].endswith("is cancelled")


def test_a_reminder_for_a_moved_appointment_is_not_sent_for_the_old_time(
    fake_google, alice_gmail, book, rita_receptionist
):
    appointment = book()
    services.emails_drain()
    assert services.reminders_enqueue_due(now=appointment.start - datetime.timedelta(hours=2)) == 1
    (reminder,) = EmailDelivery.objects.filter(kind=EmailKind.REMINDER)
    # Moved by a path that sends no change email (the reminder is already claimed by a sender).
    EmailDelivery.objects.filter(pk=reminder.pk).update(
        appointment_start=reminder.appointment_start - datetime.timedelta(hours=1)
    )
    services.emails_drain()
    reminder.refresh_from_db()
    assert reminder.status == EmailStatus.SKIPPED and "moved" in reminder.skip_reason


@pytest.mark.django_db(transaction=True)
def test_overlapping_beat_runs_record_and_send_each_reminder_once(
    fake_google, alice_gmail, book, django_capture_on_commit_callbacks
):
    appointments = [book(at(hour)) for hour in (9, 10, 11)]
    services.emails_drain()
    now = appointments[0].start - datetime.timedelta(hours=3)
    barrier = threading.Barrier(4)
    recorded = []

    def beat():
        from django.db import connection

        try:
            barrier.wait()
            recorded.append(services.reminders_enqueue_due(now=now))
            services.emails_drain()
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(recorded) == 3
    reminders = [subject for _, _, subject in sent(fake_google) if subject.startswith("Reminder")]
    assert len(reminders) == 3
    assert EmailDelivery.objects.filter(kind=EmailKind.REMINDER, status=EmailStatus.SENT).count() == 3


# --- Failures ---------------------------------------------------------------------------------


def test_gmail_rate_limits_are_retried_with_backoff(fake_google, alice_gmail, book, settings):
    book()
    fake_google.inject(Fault.TOO_MANY_REQUESTS, path="/gmail/v1/", times=1)
    assert services.emails_drain() == {"retried": 1}
    delivery = EmailDelivery.objects.get()
    assert delivery.status == EmailStatus.PENDING and delivery.next_attempt_at > timezone.now()
    EmailDelivery.objects.update(next_attempt_at=timezone.now())
    assert services.emails_drain() == {"sent": 1}
    assert len(fake_google.sent) == 1


def test_a_dropped_connection_is_not_resent_automatically_but_can_be_retried_by_a_person(
    fake_google, alice_gmail, book, client_for, alice_practitioner, django_capture_on_commit_callbacks
):
    book()
    fake_google.inject(Fault.DROP_AFTER, path="/gmail/v1/", times=2)  # Gmail took it; the answer is lost
    assert services.emails_drain() == {"dead": 1}
    delivery = EmailDelivery.objects.get()
    assert "may have been sent" in delivery.last_error
    assert len(fake_google.sent) >= 1
    assert services.emails_drain() == {}
    page = client_for(alice_practitioner).get(reverse("integrations:sync-health")).content.decode()
    assert "may have been sent" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice_practitioner).post(reverse("integrations:email-retry", kwargs={"pk": delivery.pk}))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == EmailStatus.SENT


def test_a_sender_that_died_mid_send_leaves_it_for_a_person_never_resending_it(
    fake_google, alice_gmail, book, settings
):
    book()
    _, deliveries = services.emails_claim(limit=5)  # claimed, then the process died
    assert deliveries[0].status == EmailStatus.SENDING
    EmailDelivery.objects.update(lease_until=timezone.now() - datetime.timedelta(seconds=1))
    assert services.emails_drain() == {}  # not picked up again
    assert services.emails_mark_uncertain() == 1
    assert EmailDelivery.objects.get().status == EmailStatus.DEAD
    assert fake_google.sent == []


def test_a_broken_gmail_falls_back_to_the_next_sender(
    fake_google, alice_gmail, book, alice_practitioner, django_capture_on_commit_callbacks
):
    book()
    fake_google.revoke_account(ALICE_GOOGLE)
    fake_google.expire_access_tokens(ALICE_GOOGLE)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.emails_drain() == {"retried": 1, "sent": 1}
    assert GoogleConnection.objects.get(staff=alice_practitioner).status == ConnectionStatus.BROKEN
    # The patient's email went by Django's backend; Alice is told (once) her Google broke.
    assert sorted(m.to[0] for m in django_mail.outbox) == sorted([alice_practitioner.email, PATIENT_EMAIL])


# --- Letters ----------------------------------------------------------------------------------


def test_a_letter_is_sent_once_and_an_nhs_number_in_it_does_not_reach_google(
    fake_google, alice_gmail, alice_practitioner, john
):
    for _ in range(2):
        services.letter_send(
            actor=alice_practitioner,
            patient=john,
            subject="Your exercises",
            body=f"Please keep doing them. Your NHS number is {john.nhs_number}.",
            idempotency_key="form-token-1",
        )
    services.emails_drain()
    assert len(fake_google.sent) == 1
    message = fake_google.sent[0]
    assert message.message["Subject"] == "Your exercises"
    assert "Please keep doing them." in message.message.get_content()
    assert john.nhs_number not in message.raw.decode(errors="replace")
    assert "[withheld]" in message.message.get_content()
