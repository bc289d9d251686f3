"""Reads for the privacy app. Lists start from `visible_to(user)`, with related rows loaded."""

from django.db.models import Exists, OuterRef, QuerySet

from patients.models import Patient
from privacy.models import AuditEntry, BreakGlassGrant, Disclosure, ErasureRequest, NhsNumberObjection


def active_nhs_number_objection(patient: Patient) -> NhsNumberObjection | None:
    return (
        NhsNumberObjection.objects.filter(
            organisation_id=patient.organisation_id, patient=patient, withdrawn_at__isnull=True
        )
        .select_related("recorded_by")
        .first()
    )


def has_active_nhs_number_objection(patient: Patient) -> bool:
    """Answered from the patient row when it was loaded with `with_objection_marker`."""
    annotated = getattr(patient, "nhs_number_objected", None)
    if annotated is not None:
        return annotated
    return NhsNumberObjection.objects.filter(
        organisation_id=patient.organisation_id, patient=patient, withdrawn_at__isnull=True
    ).exists()


def with_objection_marker(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Annotate `nhs_number_objected` (the marker staff see), in the same query."""
    active = NhsNumberObjection.objects.filter(patient=OuterRef("pk"), withdrawn_at__isnull=True)
    return patients.annotate(nhs_number_objected=Exists(active))


def nhs_number_objection_history(patient: Patient) -> QuerySet[NhsNumberObjection]:
    return NhsNumberObjection.objects.filter(organisation_id=patient.organisation_id, patient=patient).select_related(
        "recorded_by", "withdrawn_by"
    )


def disclosures_visible_to(user) -> QuerySet[Disclosure]:
    return Disclosure.objects.visible_to(user).select_related("patient", "requested_by", "recipient_contact")


def disclosures_for_patient(*, user, patient: Patient) -> QuerySet[Disclosure]:
    return disclosures_visible_to(user).filter(patient=patient)


def disclosure_register(*, user, allowed: bool | None = None) -> QuerySet[Disclosure]:
    """Every disclosure decision of the organisation, newest first (the Caldicott register)."""
    disclosures = disclosures_visible_to(user)
    return disclosures if allowed is None else disclosures.filter(allowed=allowed)


def break_glass_grants_visible_to(user) -> QuerySet[BreakGlassGrant]:
    return BreakGlassGrant.objects.visible_to(user).select_related("patient", "practitioner", "reviewed_by")


def break_glass_grants_to_review(*, user) -> QuerySet[BreakGlassGrant]:
    return break_glass_grants_visible_to(user).filter(reviewed_at__isnull=True)


def erasure_requests_for_patient(patient: Patient) -> QuerySet[ErasureRequest]:
    return ErasureRequest.objects.filter(organisation_id=patient.organisation_id, patient=patient).select_related(
        "recorded_by"
    )


def erasure_requests_visible_to(user) -> QuerySet[ErasureRequest]:
    """The organisation's erasure requests, newest first, for the data-protection role."""
    return ErasureRequest.objects.visible_to(user).select_related("patient", "recorded_by")


def access_log_for_patient(patient: Patient) -> QuerySet[AuditEntry]:
    """Every audit entry about the patient: who looked at their record, did what, and why."""
    return AuditEntry.objects.filter(organisation_id=patient.organisation_id, patient=patient).order_by("sequence")


def audit_entries_visible_to(user) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.visible_to(user)
