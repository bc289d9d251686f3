"""Named capability checks: Caldicott's need-to-know, in one place (docs/privacy/access-matrix.md).

- Receptionists see demographics and the diary, never clinical content.
- Practitioners read and write a patient's notes only with a care relationship
  (`patients.care`); without one they may use break-glass: read-only, time-limited, audited.
- Admins manage the organisation but never see note content, except in the subject access
  export (acting as the data-protection role).
- Nobody sees another organisation's patients.

Each check takes the acting staff member and the patient; pages and the API call them after
`visible_to` has found the patient. The answers for one patient are cached on that instance.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.choices import Role
from patients.care import has_care_relationship, patients_in_care_of
from patients.models import Patient
from privacy.models import BreakGlassGrant

_CARE_CACHE = "_jelly_care_relationship_cache"
_GRANT_CACHE = "_jelly_break_glass_cache"


def _in_organisation(user, patient: Patient) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and patient is not None
        and getattr(user, "organisation_id", None) is not None
        and patient.organisation_id == user.organisation_id
    )


def _is_practitioner_of(user, patient: Patient) -> bool:
    return _in_organisation(user, patient) and user.has_role(Role.PRACTITIONER)


def _cached(patient: Patient, attribute: str, user, compute):
    # Pages ask several questions about one patient; ask the database once per user and patient.
    cache = getattr(patient, attribute, None)
    if cache is None:
        cache = {}
        setattr(patient, attribute, cache)
    if user.pk not in cache:
        cache[user.pk] = compute()
    return cache[user.pk]


def cares_for(user, patient: Patient) -> bool:
    """A practitioner of the patient's organisation with a care relationship (any source)."""
    if not _is_practitioner_of(user, patient):
        return False
    return _cached(patient, _CARE_CACHE, user, lambda: has_care_relationship(user, patient))


def active_break_glass_grant(user, patient: Patient) -> BreakGlassGrant | None:
    """The practitioner's unexpired break-glass grant for this patient, if any (latest first)."""
    if not _is_practitioner_of(user, patient):
        return None
    return _cached(
        patient,
        _GRANT_CACHE,
        user,
        lambda: (
            BreakGlassGrant.objects.filter(
                organisation_id=user.organisation_id,
                practitioner=user,
                patient=patient,
                expires_at__gt=timezone.now(),
            )
            .order_by("-expires_at")
            .first()
        ),
    )


def forget_access_answers(patient: Patient) -> None:
    """Drop the cached answers, e.g. after a grant or a care-team change in the same request."""
    for attribute in (_CARE_CACHE, _GRANT_CACHE):
        if hasattr(patient, attribute):
            delattr(patient, attribute)


def can_view_patient(user, patient: Patient) -> bool:
    """Demographics, contacts and care team: every role of the patient's organisation."""
    return _in_organisation(user, patient) and user.has_role(*Role.values)


def can_read_notes(user, patient: Patient) -> bool:
    """Practitioners caring for the patient, or holding an active break-glass grant."""
    if not _is_practitioner_of(user, patient):
        return False
    return cares_for(user, patient) or active_break_glass_grant(user, patient) is not None


def can_write_notes(user, patient: Patient) -> bool:
    """Practitioners caring for the patient. Break-glass is read-only."""
    return cares_for(user, patient)


def can_manage_care_team(user, patient: Patient) -> bool:
    """Admins, and practitioners already caring for the patient, add and remove team members."""
    if not _in_organisation(user, patient):
        return False
    if user.has_role(Role.ADMIN):
        return True
    return cares_for(user, patient)


def can_record_consent(user, patient: Patient) -> bool:
    """Any role: reception often takes the patient's consent to email or SMS."""
    return can_view_patient(user, patient)


def can_record_nhs_number_objection(user, patient: Patient) -> bool:
    return can_view_patient(user, patient)


def can_record_erasure_request(user, patient: Patient) -> bool:
    """Any role records what the patient asked; the retention rules decide what happens."""
    return can_view_patient(user, patient)


def can_request_disclosure(user, patient: Patient) -> bool:
    """Admins (the Caldicott lead) and practitioners; receptionists pass requests on."""
    return _in_organisation(user, patient) and user.has_role(Role.ADMIN, Role.PRACTITIONER)


def can_disclose_clinical(user, patient: Patient) -> bool:
    """Clinical categories leave only with a practitioner caring for the patient: never an
    admin, and not on break-glass (emergency reading is not a reason to send notes on)."""
    return cares_for(user, patient)


def can_view_disclosures(user, patient: Patient) -> bool:
    """The patient's disclosure history (decisions, not packages)."""
    return can_request_disclosure(user, patient)


def can_view_disclosure_package(user, disclosure) -> bool:
    """The package as released: its requester, or whoever could have released it now."""
    patient = disclosure.patient
    if not can_request_disclosure(user, patient):
        return False
    if disclosure.requested_by_id == user.pk:
        return True
    clinical = {"clinical_summary", "notes"} & set(disclosure.data_categories_released)
    return can_disclose_clinical(user, patient) if clinical else True


def can_view_disclosure_register(user) -> bool:
    """The organisation-wide register, for the Caldicott lead (admins)."""
    return user is not None and user.is_authenticated and user.has_role(Role.ADMIN)


def can_request_break_glass(user, patient: Patient) -> bool:
    """Practitioners of the organisation who do not already care for the patient."""
    return _is_practitioner_of(user, patient) and not cares_for(user, patient)


def can_review_break_glass(user) -> bool:
    return user is not None and user.is_authenticated and user.has_role(Role.ADMIN)


def can_export_record(user, patient: Patient) -> bool:
    """The subject access export, note content included: admins (the data-protection role) and
    the patient's own practitioners (a care relationship; break-glass does not count)."""
    if not _in_organisation(user, patient):
        return False
    return user.has_role(Role.ADMIN) or cares_for(user, patient)


def can_view_audit_log(user) -> bool:
    return user is not None and user.is_authenticated and user.has_role(Role.ADMIN)


def patients_with_readable_notes(user) -> QuerySet[Patient]:
    """The patients whose notes `user` may read (`can_read_notes` as a queryset)."""
    if user is None or not user.is_authenticated or not user.has_role(Role.PRACTITIONER):
        return Patient.objects.none()
    grants = BreakGlassGrant.objects.filter(practitioner=user, patient=OuterRef("pk"), expires_at__gt=timezone.now())
    return Patient.objects.visible_to(user).filter(Q(pk__in=patients_in_care_of(user).values("pk")) | Q(Exists(grants)))
