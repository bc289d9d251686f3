"""Writes for the privacy app: audit entries, consent, NHS-number objections, disclosures,
break-glass grants and the subject access export.

Each service takes keyword-only arguments, runs in one transaction, calls `full_clean()` before
saving and writes its own audit entry in that transaction (so the entry exists exactly when the
change does). Rule violations raise `core.exceptions.DomainError`.

`audit_entry_record` is the only writer of `AuditEntry`; other apps' services call it too.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from core.exceptions import DomainError
from core.models import Organisation, Staff
from patients.choices import ContactAuthority
from patients.models import Contact, Patient
from privacy import audit, exports
from privacy.access import (
    can_disclose_clinical,
    can_export_record,
    can_request_break_glass,
    can_request_disclosure,
    can_review_break_glass,
    forget_access_answers,
)
from privacy.audit import AuditContext
from privacy.choices import AuditAction, AuditPurpose
from privacy.consent import effective_consent_purposes
from privacy.models import AuditEntry, BreakGlassGrant, Consent, Disclosure, ErasureRequest, NhsNumberObjection
from privacy.outbound import Destination, release
from privacy.policy import Decision, DisclosureRequest, decide_disclosure
from privacy.selectors import has_active_nhs_number_objection

DETAIL_SCALARS = (str, int, bool, type(None))


def _checked_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Details are small, non-clinical and stable under a JSON round trip (no floats)."""
    checked: dict[str, Any] = {}
    for key, value in (details or {}).items():
        if not isinstance(key, str):
            raise ValueError("Audit detail names are text.")
        if isinstance(value, list | tuple):
            if not all(isinstance(item, DETAIL_SCALARS) for item in value):
                raise ValueError(f"Audit detail {key!r} must be a list of text, numbers or booleans.")
            value = list(value)
        elif not isinstance(value, DETAIL_SCALARS):
            raise ValueError(f"Audit detail {key!r} must be text, a whole number, a boolean or a list of them.")
        checked[key] = value
    return checked


def _organisation_id_of(obj: models.Model):
    if isinstance(obj, Organisation):
        return obj.pk
    organisation_id = getattr(obj, "organisation_id", None)
    if organisation_id is None:
        raise ValueError(f"{obj._meta.label} has no organisation to audit under.")
    return organisation_id


def _patient_id_of(obj: models.Model, patient: Patient | None):
    if patient is not None:
        return patient.pk
    if isinstance(obj, Patient):
        return obj.pk
    return getattr(obj, "patient_id", None)


# No savepoint: an audit entry that cannot be written must undo the caller's whole transaction.
@transaction.atomic(savepoint=False)
def audit_entry_record(
    *,
    action: str,
    obj: models.Model,
    context: AuditContext | None = None,
    actor: Staff | None = None,
    patient: Patient | None = None,
    purpose: str = "",
    reason: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the organisation's audit chain: who (`context.actor`, or `actor`),
    did what (`action`, a `privacy.choices.AuditAction`) to which object (`obj`: its model label
    and pk; its organisation; its patient, from `patient` or `obj.patient_id`), from where
    (`context.ip_address`) and why (`purpose`, `reason`, else the context's).

    Call it inside your transaction, after your own row locks: the entry then commits or rolls
    back with the change, and the organisation's chain head (locked from here until the
    transaction ends, so the chain never forks) is always the last lock taken.
    `details` must not hold clinical content: ids, field names, counts. See docs/privacy/audit.md.
    """
    context = context or AuditContext(actor=actor)
    acting = context.actor
    object_type, object_id = audit.object_label(obj)
    entry = AuditEntry(
        organisation_id=_organisation_id_of(obj),
        occurred_at=timezone.now(),
        actor_id=acting.pk if acting is not None else None,
        actor_name=(acting.full_name or acting.email) if acting is not None else "Jelly (system)",
        actor_role=(acting.role or "operator") if acting is not None else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=_patient_id_of(obj, patient),
        ip_address=context.ip_address or "",
        purpose=purpose or context.purpose,
        reason=reason or context.reason,
        details=_checked_details(details),
    )
    entry.full_clean(
        exclude=["organisation", "actor", "patient", "sequence", "previous_hash", "entry_hash"],
        validate_unique=False,
        validate_constraints=False,
    )
    return audit.append_entry(entry)


def _context(audit_context: AuditContext | None, actor: Staff | None) -> AuditContext:
    return audit_context or AuditContext(actor=actor)


# --- Consent ------------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    patient: Patient,
    purpose: str,
    decision: str,
    method: str,
    recorded_by: Staff,
    expires_at: datetime | None = None,
    evidence: str = "",
    audit: AuditContext | None = None,
) -> Consent:
    """Record a patient's consent decision for one purpose. Records are never overwritten:
    the latest one is the current state, the earlier ones the history."""
    consent = Consent(
        organisation_id=patient.organisation_id,
        patient=patient,
        purpose=purpose,
        decision=decision,
        method=method,
        recorded_by=recorded_by,
        expires_at=expires_at,
        evidence=(evidence or "").strip(),
    )
    consent.full_clean()
    consent.save()
    audit_entry_record(
        action=AuditAction.CREATE,
        obj=consent,
        context=_context(audit, recorded_by),
        details={"purpose": purpose, "decision": decision},
    )
    return consent


# --- Objection to NHS-number sharing -------------------------------------------------------

OBJECTION_ALREADY_RECORDED = "This patient's objection to NHS-number sharing is already recorded."


@transaction.atomic
def nhs_number_objection_record(
    *,
    patient: Patient,
    recorded_by: Staff,
    method: str,
    explanation_given: bool,
    note: str = "",
    audit: AuditContext | None = None,
) -> NhsNumberObjection:
    """Record the patient's objection; from now on their NHS number leaves Jelly nowhere
    (`privacy.outbound`). Staff must have explained what it means for the patient's care."""
    if has_active_nhs_number_objection(patient):
        raise DomainError(OBJECTION_ALREADY_RECORDED, conflict=True)
    objection = NhsNumberObjection(
        organisation_id=patient.organisation_id,
        patient=patient,
        recorded_by=recorded_by,
        method=method,
        explanation_given=explanation_given,
        note=(note or "").strip(),
    )
    objection.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            objection.save()
    except IntegrityError as exc:
        # Two people recording it at once: the partial unique constraint decides.
        raise DomainError(OBJECTION_ALREADY_RECORDED, conflict=True) from exc
    audit_entry_record(
        action=AuditAction.CREATE, obj=objection, context=_context(audit, recorded_by), details={"method": method}
    )
    return objection


@transaction.atomic
def nhs_number_objection_withdraw(
    *,
    patient: Patient,
    withdrawn_by: Staff,
    method: str,
    note: str = "",
    audit: AuditContext | None = None,
) -> NhsNumberObjection:
    """The patient withdraws their objection; the record stays, marked withdrawn."""
    objection = (
        NhsNumberObjection.objects.select_for_update()
        .filter(organisation_id=patient.organisation_id, patient=patient, withdrawn_at__isnull=True)
        .first()
    )
    if objection is None:
        raise DomainError("This patient has no objection to NHS-number sharing to withdraw.", conflict=True)
    objection.withdrawn_at = timezone.now()
    objection.withdrawn_by = withdrawn_by
    objection.withdrawal_method = method
    objection.withdrawal_note = (note or "").strip()
    objection.full_clean(validate_constraints=False)
    objection.save()
    audit_entry_record(
        action=AuditAction.CHANGE,
        obj=objection,
        context=_context(audit, withdrawn_by),
        details={"withdrawn": True, "method": method},
    )
    return objection


# --- Disclosures --------------------------------------------------------------------------


def disclosure_policy_request(
    *,
    patient: Patient,
    requested_by: Staff,
    recipient_category: str,
    purpose: str,
    data_categories: Iterable[str],
    legal_reference: str = "",
    recipient_contact: Contact | None = None,
) -> DisclosureRequest:
    """The policy question with the state checked now: consents in force, the objection, the
    recipient's recorded authority, and whether the requester may release clinical content."""
    return DisclosureRequest(
        recipient_category=recipient_category,
        purpose=purpose,
        data_categories=frozenset(data_categories),
        legal_reference=legal_reference or "",
        consents=effective_consent_purposes(patient),
        nhs_number_objection=has_active_nhs_number_objection(patient),
        recipient_authority=recipient_contact.authority if recipient_contact is not None else ContactAuthority.NONE,
        requester_may_disclose_clinical=can_disclose_clinical(requested_by, patient),
    )


def disclosure_preview(**kwargs) -> Decision:
    """What `disclosure_request` would decide now, without logging or releasing anything."""
    return decide_disclosure(disclosure_policy_request(**kwargs))


@transaction.atomic
def disclosure_request(
    *,
    patient: Patient,
    requested_by: Staff,
    recipient_category: str,
    recipient_name: str,
    purpose: str,
    data_categories: Iterable[str],
    lawful_basis: str = "",
    legal_reference: str = "",
    recipient_details: str = "",
    recipient_contact: Contact | None = None,
    release_now: bool = False,
    audit: AuditContext | None = None,
) -> Disclosure:
    """Decide a disclosure (`privacy.policy.decide_disclosure`) and log the decision, allowed or
    denied. With `release_now`, an allowed disclosure is released at once (the API); pages show
    the decision first and release with `disclosure_release`."""
    if not can_request_disclosure(requested_by, patient):
        raise DomainError("Only admins and practitioners of the patient's organisation request disclosures.")
    if recipient_contact is not None and recipient_contact.patient_id != patient.pk:
        raise DomainError("Choose one of this patient's contacts.", errors={"recipient_contact": ["Not a contact."]})
    categories = list(dict.fromkeys(data_categories))
    decision = decide_disclosure(
        disclosure_policy_request(
            patient=patient,
            requested_by=requested_by,
            recipient_category=recipient_category,
            purpose=purpose,
            data_categories=categories,
            legal_reference=legal_reference,
            recipient_contact=recipient_contact,
        )
    )
    disclosure = Disclosure(
        organisation_id=patient.organisation_id,
        patient=patient,
        requested_by=requested_by,
        recipient_category=recipient_category,
        recipient_name=recipient_name.strip(),
        recipient_details=(recipient_details or "").strip(),
        recipient_contact=recipient_contact,
        purpose=purpose,
        lawful_basis=(lawful_basis or "").strip(),
        legal_reference=(legal_reference or "").strip(),
        data_categories_requested=list(decision.checked_state["data_categories_requested"]),
        data_categories_released=list(decision.released_categories),
        allowed=decision.allowed,
        reasons=list(decision.reasons),
        checked_state=dict(decision.checked_state),
    )
    disclosure.full_clean()
    disclosure.save()
    context = _context(audit, requested_by)
    audit_entry_record(
        action=AuditAction.CREATE,
        obj=disclosure,
        context=context,
        purpose=AuditPurpose.DISCLOSURE,
        details={
            "allowed": decision.allowed,
            "recipient_category": recipient_category,
            "disclosure_purpose": purpose,
            "released": list(decision.released_categories),
        },
    )
    if release_now and decision.allowed:
        disclosure = disclosure_release(disclosure=disclosure, released_by=requested_by, audit=context)
    return disclosure


@transaction.atomic
def disclosure_release(*, disclosure: Disclosure, released_by: Staff, audit: AuditContext | None = None) -> Disclosure:
    """Release an allowed disclosure: build the package of exactly the released categories and
    pass it through `privacy.outbound.release`. The decision is taken again first; if anything
    it depended on has changed (a new objection, withdrawn consent), nothing is released."""
    locked = (
        Disclosure.objects.select_for_update(of=("self",))
        .select_related("patient", "recipient_contact", "requested_by")
        .get(pk=disclosure.pk)
    )
    if not locked.allowed:
        raise DomainError("This disclosure was denied; nothing can be released.")
    if locked.is_released:
        raise DomainError("This disclosure has already been released.", conflict=True)
    if locked.requested_by_id != released_by.pk:
        raise DomainError("Only the person who asked for this disclosure releases it.")
    patient = locked.patient
    forget_access_answers(patient)
    decision = decide_disclosure(
        disclosure_policy_request(
            patient=patient,
            requested_by=released_by,
            recipient_category=locked.recipient_category,
            purpose=locked.purpose,
            data_categories=locked.data_categories_requested,
            legal_reference=locked.legal_reference,
            recipient_contact=locked.recipient_contact,
        )
    )
    if not decision.allowed or list(decision.released_categories) != list(locked.data_categories_released):
        raise DomainError(
            "Something this decision depended on has changed since it was made (consent, the NHS-number "
            "objection or access). Nothing was released; ask again for a new decision.",
            conflict=True,
        )
    package = exports.disclosure_package(locked)
    locked.package = release(
        patient=patient, destination=Destination.disclosure(locked.recipient_category), payload=package
    )
    locked.released_at = timezone.now()
    locked.full_clean()
    locked.save(update_fields=["package", "released_at"])
    audit_entry_record(
        action=AuditAction.EXPORT,
        obj=locked,
        context=_context(audit, released_by),
        purpose=AuditPurpose.DISCLOSURE,
        details={"released": list(locked.data_categories_released)},
    )
    return locked


# --- Break-glass --------------------------------------------------------------------------


@transaction.atomic
def break_glass_grant(
    *, patient: Patient, practitioner: Staff, reason: str, audit: AuditContext | None = None
) -> BreakGlassGrant:
    """Give a practitioner without a care relationship read access to the patient's notes for
    `BREAK_GLASS_MINUTES`, on a stated reason. Audited, and listed for the admin's review."""
    if not can_request_break_glass(practitioner, patient):
        raise DomainError(
            "Break-glass is for practitioners of this organisation who do not already care for the patient."
        )
    now = timezone.now()
    grant = BreakGlassGrant(
        organisation_id=patient.organisation_id,
        patient=patient,
        practitioner=practitioner,
        reason=(reason or "").strip(),
        granted_at=now,
        expires_at=now + timedelta(minutes=settings.BREAK_GLASS_MINUTES),
    )
    grant.full_clean()
    grant.save()
    forget_access_answers(patient)
    audit_entry_record(
        action=AuditAction.BREAK_GLASS,
        obj=grant,
        context=_context(audit, practitioner),
        purpose=AuditPurpose.BREAK_GLASS,
        reason=grant.reason,
        details={"minutes": settings.BREAK_GLASS_MINUTES},
    )
    return grant


@transaction.atomic
def break_glass_review(
    *, grant: BreakGlassGrant, reviewer: Staff, note: str = "", audit: AuditContext | None = None
) -> BreakGlassGrant:
    """The organisation's admin marks a break-glass grant as reviewed (with an optional note)."""
    if not can_review_break_glass(reviewer) or reviewer.organisation_id != grant.organisation_id:
        raise DomainError("Only the organisation's admins review break-glass access.")
    locked = BreakGlassGrant.objects.select_for_update().get(pk=grant.pk)
    if locked.reviewed_at is not None:
        raise DomainError("This break-glass access has already been reviewed.", conflict=True)
    locked.reviewed_at = timezone.now()
    locked.reviewed_by = reviewer
    locked.review_note = (note or "").strip()
    locked.full_clean()
    locked.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    audit_entry_record(
        action=AuditAction.CHANGE, obj=locked, context=_context(audit, reviewer), details={"reviewed": True}
    )
    return locked


# --- Erasure requests ---------------------------------------------------------------------


@transaction.atomic
def erasure_request_record(
    *, patient: Patient, recorded_by: Staff, method: str, details: str, audit: AuditContext | None = None
) -> ErasureRequest:
    """Record a patient's request for erasure, as received. Nothing is erased here: the
    retention rules decide what may go and what the law requires the clinic to keep."""
    request = ErasureRequest(
        organisation_id=patient.organisation_id,
        patient=patient,
        recorded_by=recorded_by,
        method=method,
        details=(details or "").strip(),
    )
    request.full_clean()
    request.save()
    audit_entry_record(action=AuditAction.CREATE, obj=request, context=_context(audit, recorded_by))
    return request


# --- Subject access -----------------------------------------------------------------------


@transaction.atomic
def subject_access_export(
    *, patient: Patient, exported_by: Staff, audit: AuditContext | None = None, file_format: str = "json"
) -> dict[str, Any]:
    """Everything held about the patient, for the patient: demographics, contacts, appointments,
    clinical notes, consents, objections, disclosures, erasure requests and the access log. The export is audited
    first, so it appears in its own access log. Admins (the data-protection role) and the
    patient's own practitioners only."""
    if not can_export_record(exported_by, patient):
        raise DomainError("Only admins and the patient's own practitioners export their record.")
    audit_entry_record(
        action=AuditAction.EXPORT,
        obj=patient,
        context=_context(audit, exported_by),
        purpose=AuditPurpose.SUBJECT_ACCESS,
        details={"format": file_format},
    )
    return release(
        patient=patient, destination=Destination.subject_access(), payload=exports.subject_access_content(patient)
    )
