"""What a disclosure package and a subject access export contain, as JSON-ready dicts.

Only `privacy.services` calls these, after checking who may have them, and passes the result
through `privacy.outbound.release` before anything leaves. Times are ISO 8601 in UTC. Booking
notes are called `booking_notes` so they are never mistaken for clinical notes.
"""

from datetime import UTC, date, datetime
from typing import Any

from diary.models import Appointment
from patients.choices import NoteStatus
from patients.models import ClinicalNote, Patient
from privacy.choices import DataCategory
from privacy.consent import consent_history
from privacy.models import Disclosure
from privacy.selectors import access_log_for_patient, erasure_requests_for_patient, nhs_number_objection_history

# Note sections that make up the clinical summary (matched case-insensitively).
CLINICAL_SUMMARY_HEADINGS = frozenset({"assessment", "diagnosis", "impression", "plan"})


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def _name(staff) -> str:
    return (staff.full_name or staff.email) if staff is not None else ""


def demographics(patient: Patient) -> dict[str, Any]:
    """Who the patient is and how to reach them (the NHS number is its own category)."""
    return {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "preferred_name": patient.preferred_name,
        "date_of_birth": _iso(patient.date_of_birth),
        "gender": patient.gender,
        "email": patient.email,
        "phone": patient.phone,
        "address_line1": patient.address_line1,
        "address_line2": patient.address_line2,
        "town": patient.town,
        "postcode": patient.postcode,
        "registered_gp_practice": patient.registered_gp_practice,
        "deceased": patient.deceased,
        "date_of_death": _iso(patient.date_of_death),
    }


def nhs_number(patient: Patient) -> dict[str, Any]:
    return {"nhs_number": patient.nhs_number, "nhs_number_status": patient.nhs_number_status}


def contacts(patient: Patient) -> list[dict[str, Any]]:
    return [
        {
            "name": contact.name,
            "relationship": contact.relationship,
            "phone": contact.phone,
            "email": contact.email,
            "authority": contact.authority,
        }
        for contact in patient.contacts.order_by("name", "id")
    ]


def appointments(patient: Patient) -> list[dict[str, Any]]:
    rows = (
        Appointment.objects.filter(organisation_id=patient.organisation_id, patient=patient)
        .select_related("practitioner", "service", "location")
        .order_by("start", "id")
    )
    return [
        {
            "start": _iso(appointment.start),
            "end": _iso(appointment.end),
            "status": appointment.status,
            "practitioner": _name(appointment.practitioner),
            "service": appointment.service.name,
            "location": appointment.location.name,
            "booking_notes": appointment.notes,
            "cancellation_reason": appointment.cancellation_reason,
        }
        for appointment in rows
    ]


def _notes(patient: Patient, *, signed_only: bool):
    notes = (
        ClinicalNote.objects.filter(organisation_id=patient.organisation_id, patient=patient)
        .select_related("author", "template")
        .prefetch_related("addenda__author")
        .order_by("created_at", "id")
    )
    return notes.filter(status=NoteStatus.SIGNED) if signed_only else notes


def clinical_summary(patient: Patient) -> dict[str, Any]:
    """The care team and, from each signed note, its assessment and plan sections."""
    return {
        "care_team": [_name(member.practitioner) for member in patient.care_team.select_related("practitioner")],
        "signed_notes": [
            {
                "written_at": _iso(note.created_at),
                "author": _name(note.author),
                "sections": {
                    heading: text
                    for heading, text in note.sections.items()
                    if heading.strip().lower() in CLINICAL_SUMMARY_HEADINGS
                },
            }
            for note in _notes(patient, signed_only=True)
        ],
    }


def notes(patient: Patient, *, signed_only: bool = True) -> list[dict[str, Any]]:
    """Clinical notes in full, with addenda. Drafts only in the patient's own export."""
    return [
        {
            "written_at": _iso(note.created_at),
            "author": _name(note.author),
            "template": note.template.name if note.template else "",
            "status": note.status,
            "signed_at": _iso(note.signed_at),
            "sections": dict(note.sections),
            "text": note.text,
            "addenda": [
                {"written_at": _iso(addendum.created_at), "author": _name(addendum.author), "text": addendum.text}
                for addendum in note.addenda.all()
            ],
        }
        for note in _notes(patient, signed_only=signed_only)
    ]


def consents(patient: Patient) -> list[dict[str, Any]]:
    return [
        {
            "purpose": consent.purpose,
            "decision": consent.decision,
            "how": consent.method,
            "recorded_at": _iso(consent.recorded_at),
            "recorded_by": _name(consent.recorded_by),
            "expires_at": _iso(consent.expires_at),
            "evidence": consent.evidence,
        }
        for consent in consent_history(patient).order_by("recorded_at", "id")
    ]


def objections(patient: Patient) -> list[dict[str, Any]]:
    return [
        {
            "recorded_at": _iso(objection.recorded_at),
            "recorded_by": _name(objection.recorded_by),
            "how": objection.method,
            "note": objection.note,
            "withdrawn_at": _iso(objection.withdrawn_at),
            "withdrawn_by": _name(objection.withdrawn_by),
            "withdrawal_how": objection.withdrawal_method,
        }
        for objection in nhs_number_objection_history(patient).order_by("recorded_at", "id")
    ]


def disclosures(patient: Patient) -> list[dict[str, Any]]:
    """Every disclosure decision about the patient (what was asked, decided and sent)."""
    rows = (
        Disclosure.objects.filter(organisation_id=patient.organisation_id, patient=patient)
        .select_related("requested_by")
        .order_by("requested_at", "id")
    )
    return [
        {
            "decided_at": _iso(disclosure.requested_at),
            "requested_by": _name(disclosure.requested_by),
            "recipient_name": disclosure.recipient_name,
            "recipient_category": disclosure.recipient_category,
            "purpose": disclosure.purpose,
            "lawful_basis": disclosure.lawful_basis,
            "legal_reference": disclosure.legal_reference,
            "data_categories_requested": list(disclosure.data_categories_requested),
            "allowed": disclosure.allowed,
            "data_categories_released": list(disclosure.data_categories_released),
            "reasons": list(disclosure.reasons),
            "released_at": _iso(disclosure.released_at),
        }
        for disclosure in rows
    ]


def erasure_requests(patient: Patient) -> list[dict[str, Any]]:
    return [
        {
            "recorded_at": _iso(request.recorded_at),
            "recorded_by": _name(request.recorded_by),
            "how": request.method,
            "details": request.details,
        }
        for request in erasure_requests_for_patient(patient).order_by("recorded_at", "id")
    ]


def access_log(patient: Patient) -> list[dict[str, Any]]:
    """Who looked at or changed the patient's record, when, and why."""
    return [
        {
            "at": _iso(entry.occurred_at),
            "who": entry.actor_name,
            "role": entry.actor_role,
            "action": entry.action,
            "what": entry.object_type,
            "purpose": entry.purpose,
            "reason": entry.reason,
        }
        for entry in access_log_for_patient(patient)
    ]


SECTION_BUILDERS = {
    DataCategory.DEMOGRAPHICS: demographics,
    DataCategory.APPOINTMENTS: appointments,
    DataCategory.CLINICAL_SUMMARY: clinical_summary,
    DataCategory.NOTES: notes,
    DataCategory.NHS_NUMBER: nhs_number,
}


def disclosure_package(disclosure: Disclosure) -> dict[str, Any]:
    """Exactly the released categories, and what the recipient needs to know of the decision."""
    patient = disclosure.patient
    package: dict[str, Any] = {
        "disclosure": {
            "reference": str(disclosure.pk),
            "recipient_name": disclosure.recipient_name,
            "recipient_category": disclosure.recipient_category,
            "purpose": disclosure.purpose,
            "lawful_basis": disclosure.lawful_basis,
            "legal_reference": disclosure.legal_reference,
            "decided_at": _iso(disclosure.requested_at),
            "released_by": _name(disclosure.requested_by),
            "categories": list(disclosure.data_categories_released),
        }
    }
    for category in disclosure.data_categories_released:
        package[category] = SECTION_BUILDERS[category](patient)
    return package


def subject_access_content(patient: Patient) -> dict[str, Any]:
    return {
        "patient": str(patient.pk),
        "demographics": demographics(patient),
        "nhs_number": nhs_number(patient),
        "contacts": contacts(patient),
        "appointments": appointments(patient),
        "clinical_notes": notes(patient, signed_only=False),
        "consents": consents(patient),
        "nhs_number_objections": objections(patient),
        "disclosures": disclosures(patient),
        "erasure_requests": erasure_requests(patient),
        "access_log": access_log(patient),
    }
