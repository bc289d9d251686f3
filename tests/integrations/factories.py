"""Factories for the integrations engine, its matrix objects, and helpers the sync tests share.

Factories write rows directly (test set-up only); behaviour is tested through the diary's
services and the outbox, as every real entry point does.
"""

import datetime

import factory
from django.utils import timezone

from core.choices import Role
from integrations.choices import EmailKind, EmailStatus, OutboxStatus
from integrations.google.choices import CALENDAR_SCOPE, GMAIL_SEND_SCOPE, ConnectionStatus
from integrations.google.models import GoogleConnection
from integrations.google.sync import GOOGLE_CALENDAR
from integrations.models import EmailDelivery, EmailTemplate, IntegrationSettings, OutboxEntry, OutgoingEmail
from privacy.choices import ConsentDecision, ConsentPurpose, RecordingMethod
from tests.diary.factories import _appointment
from tests.factories import OrganisationFactory, StaffFactory
from tests.matrix_registry import register_matrix_object
from tests.patients.factories import PatientFactory


class IntegrationSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrationSettings
        django_get_or_create = ("organisation",)

    organisation = factory.SubFactory(OrganisationFactory)


class OutboxEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxEntry

    appointment = factory.LazyAttribute(lambda o: _appointment(o.organisation, "entry"))
    organisation = factory.SubFactory(OrganisationFactory)
    destination = GOOGLE_CALENDAR
    wanted_version = 1
    status = OutboxStatus.PENDING


class EmailTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailTemplate

    organisation = factory.SubFactory(OrganisationFactory)
    kind = EmailKind.CONFIRMATION
    subject = "Booked: {{ date }}"
    body = "Hello {{ patient_first_name }}, see you at {{ time }}."


class EmailDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailDelivery

    organisation = factory.SubFactory(OrganisationFactory)
    patient = factory.SubFactory(PatientFactory, organisation=factory.SelfAttribute("..organisation"))
    dedupe_key = factory.Sequence(lambda n: f"letter:test:{n}")
    kind = EmailKind.LETTER
    status = EmailStatus.PENDING


def _outbox_entry(organisation, canary):
    appointment = _appointment(organisation, canary)
    return OutboxEntry.objects.create(
        organisation=organisation,
        destination=GOOGLE_CALENDAR,
        appointment=appointment,
        wanted_version=1,
        status=OutboxStatus.DEAD,
        dead_at=timezone.now(),
        last_error=f"Google said no {canary}",
        last_success_at=timezone.now() - datetime.timedelta(hours=1),
    )


def _email_delivery(organisation, canary):
    appointment = _appointment(organisation, canary)
    delivery = EmailDeliveryFactory(
        organisation=organisation,
        patient=appointment.patient,
        appointment=appointment,
        appointment_start=appointment.start,
        kind=EmailKind.CONFIRMATION,
        dedupe_key=f"confirmation:{appointment.pk}",
        status=EmailStatus.DEAD,
        dead_at=timezone.now(),
        last_error=f"Gmail said no {canary}",
    )
    OutgoingEmail.objects.create(
        organisation=organisation, delivery=delivery, to_address="p@example.test", subject=canary, body=canary
    )
    return delivery


register_matrix_object("outboxentry", _outbox_entry)
register_matrix_object("emaildelivery", _email_delivery)
register_matrix_object("outgoingemail", lambda organisation, canary: _email_delivery(organisation, canary).message)
register_matrix_object(
    "emailtemplate",
    lambda organisation, canary: EmailTemplateFactory(organisation=organisation, subject=f"Booked {canary}"),
)
register_matrix_object(
    "integrationsettings", lambda organisation, canary: IntegrationSettingsFactory(organisation=organisation)
)


# --- Helpers for the sync tests -----------------------------------------------------------


def google_connection_at(fake, staff, *, account: str | None = None, scopes=(CALENDAR_SCOPE, GMAIL_SEND_SCOPE)):
    """`staff` connected to `account` at the fake Google, with real tokens the fake honours."""
    account = account or staff.email.replace("@", ".") + "@gmail.test"
    access, refresh = fake.issue_tokens(account, scopes=scopes)
    connection, _ = GoogleConnection.objects.update_or_create(
        staff=staff,
        defaults={
            "organisation_id": staff.organisation_id,
            "google_email": account,
            "access_token": access,
            "refresh_token": refresh,
            "token_expiry": timezone.now() + datetime.timedelta(hours=1),
            "granted_scopes": sorted(scopes),
            "status": ConnectionStatus.CONNECTED,
            "connected_at": timezone.now(),
        },
    )
    return connection


PATIENT_EMAIL = "john.smith@patients.test"


def consent_to_email(patient, recorded_by):
    from privacy.services import consent_record

    return consent_record(
        patient=patient,
        purpose=ConsentPurpose.EMAIL_COMMUNICATIONS,
        decision=ConsentDecision.GIVEN,
        method=RecordingMethod.WRITTEN,
        recorded_by=recorded_by,
    )


def practitioner(organisation, n: int, **extra):
    return StaffFactory(
        organisation=organisation,
        role=Role.PRACTITIONER,
        email=f"practitioner{n}@sync.test",
        given_name=f"Prac{n}",
        family_name="Titioner",
        **extra,
    )
