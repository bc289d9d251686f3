"""Factories for the privacy app, and its objects for the authorisation matrix.

Factories write rows directly (test set-up only), except audit entries, which only the service
may append (so every chain a test builds is a valid one).
"""

import datetime

import factory
from django.utils import timezone

from core.choices import Role
from privacy.choices import (
    AuditAction,
    ConsentDecision,
    ConsentPurpose,
    DataCategory,
    DisclosurePurpose,
    RecipientCategory,
    RecordingMethod,
)
from privacy.models import (
    BreakGlassGrant,
    Consent,
    CustomConsentPurpose,
    Disclosure,
    ErasureRequest,
    NhsNumberObjection,
)
from privacy.services import audit_entry_record
from tests.factories import StaffFactory
from tests.matrix_registry import register_matrix_object
from tests.patients.factories import PatientFactory, PractitionerFactory


class AdminFactory(StaffFactory):
    role = Role.ADMIN


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    patient = factory.SubFactory(PatientFactory)
    organisation = factory.SelfAttribute("patient.organisation")
    purpose = ConsentPurpose.EMAIL_COMMUNICATIONS
    decision = ConsentDecision.GIVEN
    method = RecordingMethod.VERBAL
    recorded_by = factory.SubFactory(StaffFactory, organisation=factory.SelfAttribute("..organisation"))
    evidence = ""


class CustomConsentPurposeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomConsentPurpose

    code = factory.Sequence(lambda n: f"newsletter-{n}")
    label = "Newsletter"


class NhsNumberObjectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NhsNumberObjection

    patient = factory.SubFactory(PatientFactory)
    organisation = factory.SelfAttribute("patient.organisation")
    recorded_by = factory.SubFactory(StaffFactory, organisation=factory.SelfAttribute("..organisation"))
    method = RecordingMethod.WRITTEN
    explanation_given = True


class DisclosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disclosure

    patient = factory.SubFactory(PatientFactory)
    organisation = factory.SelfAttribute("patient.organisation")
    requested_by = factory.SubFactory(AdminFactory, organisation=factory.SelfAttribute("..organisation"))
    recipient_category = RecipientCategory.HEALTHCARE_PROFESSIONAL
    recipient_name = "Dr Recipient"
    purpose = DisclosurePurpose.DIRECT_CARE
    data_categories_requested = factory.LazyFunction(lambda: [DataCategory.DEMOGRAPHICS.value])
    data_categories_released = factory.LazyFunction(lambda: [DataCategory.DEMOGRAPHICS.value])
    allowed = True
    reasons = factory.LazyFunction(lambda: ["Direct care: the minimum necessary."])
    checked_state = factory.LazyFunction(dict)


class BreakGlassGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BreakGlassGrant

    patient = factory.SubFactory(PatientFactory)
    organisation = factory.SelfAttribute("patient.organisation")
    practitioner = factory.SubFactory(PractitionerFactory, organisation=factory.SelfAttribute("..organisation"))
    reason = "Patient collapsed in the waiting room."
    granted_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda grant: grant.granted_at + datetime.timedelta(minutes=30))


class ErasureRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ErasureRequest

    patient = factory.SubFactory(PatientFactory)
    organisation = factory.SelfAttribute("patient.organisation")
    recorded_by = factory.SubFactory(StaffFactory, organisation=factory.SelfAttribute("..organisation"))
    method = RecordingMethod.WRITTEN
    details = "Please delete my old address."


def _released_disclosure(organisation, canary):
    patient = PatientFactory(organisation=organisation, family_name=f"Family {canary}")
    return DisclosureFactory(
        patient=patient,
        recipient_name=f"Recipient {canary}",
        released_at=timezone.now(),
        package={"disclosure": {"recipient_name": f"Recipient {canary}"}, "demographics": {"family_name": canary}},
    )


def _audit_entry(organisation, canary):
    patient = PatientFactory(organisation=organisation, family_name=f"Family {canary}")
    return audit_entry_record(action=AuditAction.VIEW, obj=patient, reason=f"Matrix {canary}")


register_matrix_object(
    "consent",
    lambda organisation, canary: ConsentFactory(
        patient=PatientFactory(organisation=organisation), evidence=f"Evidence {canary}"
    ),
)
register_matrix_object(
    "customconsentpurpose",
    lambda organisation, canary: CustomConsentPurposeFactory(organisation=organisation, label=f"Purpose {canary}"),
)
register_matrix_object(
    "nhsnumberobjection",
    lambda organisation, canary: NhsNumberObjectionFactory(
        patient=PatientFactory(organisation=organisation), note=f"Objection {canary}"
    ),
)
register_matrix_object("disclosure", _released_disclosure)
register_matrix_object(
    "breakglassgrant",
    lambda organisation, canary: BreakGlassGrantFactory(
        patient=PatientFactory(organisation=organisation), reason=f"Emergency {canary}"
    ),
)
register_matrix_object("auditentry", _audit_entry)
register_matrix_object(
    "erasurerequest",
    lambda organisation, canary: ErasureRequestFactory(
        patient=PatientFactory(organisation=organisation), details=f"Erase {canary}"
    ),
)
