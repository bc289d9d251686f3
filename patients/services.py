"""Writes for patients, contacts, care teams, clinical notes and the CSV import.

Each service takes keyword-only arguments, runs in one transaction and calls `full_clean()`
before saving. Rule violations raise `core.exceptions.DomainError` (a signed note is never
edited: `conflict=True`, HTTP 409); malformed input raises `ValidationError` (HTTP 400).

Every create, change and delete writes an access-audit entry in the same transaction
(`privacy.services.audit_entry_record`). Callers pass `audit=audit_context(request)` for who and
from where; without it the acting staff member argument (or "system") is recorded.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.choices import Role
from core.exceptions import DomainError
from core.models import Organisation, Staff
from diary.models import Appointment
from patients.choices import ContactAuthority, Gender, NhsNumberStatus, NoteStatus
from patients.importing import ImportProblem, map_header, parse_row, person_key, read_rows
from patients.models import CareTeamMember, ClinicalNote, Contact, NoteAddendum, NoteTemplate, Patient
from patients.validators import normalise_nhs_number, normalise_phone, normalise_postcode
from privacy.audit import AuditContext
from privacy.choices import AuditAction
from privacy.services import audit_entry_record

PATIENT_EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "gender",
    "nhs_number",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "registered_gp_practice",
    "deceased",
    "date_of_death",
    "archived",
)
CONTACT_EDITABLE_FIELDS = ("name", "relationship", "phone", "email", "authority")
NORMALISERS = {"nhs_number": normalise_nhs_number, "postcode": normalise_postcode, "phone": normalise_phone}
NHS_NUMBER_TAKEN = "Another patient in this organisation has this NHS number."
NOT_THIS_PATIENTS_APPOINTMENT = "Choose one of this patient's appointments."
_UNCHANGED: Any = object()


def _audited(
    action: str, obj, audit: AuditContext | None, actor: Staff | None = None, *, patient=None, **details
) -> None:
    audit_entry_record(
        action=action, obj=obj, context=audit or AuditContext(actor=actor), patient=patient, details=details or None
    )


def _normalised(values: Mapping[str, Any]) -> dict[str, Any]:
    """Strip text and normalise NHS number, postcode and phone; all problems at once."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        if name in NORMALISERS:
            try:
                value = NORMALISERS[name](value)
            except ValidationError as exc:
                errors[name] = exc.messages
                continue
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _ensure_nhs_number_free(patient: Patient) -> None:
    if not patient.nhs_number:
        return
    taken = (
        Patient.objects.for_organisation(patient.organisation_id)
        .filter(nhs_number=patient.nhs_number)
        .exclude(pk=patient.pk)
        .exists()
    )
    if taken:
        raise DomainError(NHS_NUMBER_TAKEN, errors={"nhs_number": [NHS_NUMBER_TAKEN]})


def _save_patient(patient: Patient) -> None:
    _ensure_nhs_number_free(patient)
    patient.full_clean()
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:
        # Two people saving the same NHS number at once: the constraint decides.
        raise DomainError(NHS_NUMBER_TAKEN, errors={"nhs_number": [NHS_NUMBER_TAKEN]}) from exc


@transaction.atomic
def patient_create(
    *,
    organisation: Organisation,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    created_by: Staff | None = None,
    preferred_name: str = "",
    gender: str = Gender.UNKNOWN,
    nhs_number: str = "",
    email: str = "",
    phone: str = "",
    address_line1: str = "",
    address_line2: str = "",
    town: str = "",
    postcode: str = "",
    registered_gp_practice: str = "",
    deceased: bool = False,
    date_of_death: date | None = None,
    archived: bool = False,
    audit: AuditContext | None = None,
) -> Patient:
    """Register a patient. A practitioner who registers a patient joins their care team."""
    values = _normalised(
        {
            "given_name": given_name,
            "family_name": family_name,
            "preferred_name": preferred_name,
            "date_of_birth": date_of_birth,
            "gender": gender,
            "nhs_number": nhs_number,
            "email": email,
            "phone": phone,
            "address_line1": address_line1,
            "address_line2": address_line2,
            "town": town,
            "postcode": postcode,
            "registered_gp_practice": registered_gp_practice,
            "deceased": deceased,
            "date_of_death": date_of_death,
            "archived": archived,
        }
    )
    patient = Patient(organisation=organisation, **values)
    if archived:
        patient.archived_at = timezone.now()
    _save_patient(patient)
    _audited(AuditAction.CREATE, patient, audit, created_by)
    if created_by is not None and created_by.has_role(Role.PRACTITIONER):
        care_team_member_add(patient=patient, practitioner=created_by, added_by=created_by, audit=audit)
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, changes: Mapping[str, Any], audit: AuditContext | None = None) -> Patient:
    """Change demographics. A new NHS number is unverified until traced again."""
    unknown = set(changes) - set(PATIENT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    values = _normalised(changes)
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if "nhs_number" in values and values["nhs_number"] != locked.nhs_number:
        locked.nhs_number_status = NhsNumberStatus.UNVERIFIED
    if "archived" in values and values["archived"] != locked.archived:
        locked.archived_at = timezone.now() if values["archived"] else None
    changed = sorted(name for name, value in values.items() if getattr(locked, name) != value)
    for name, value in values.items():
        setattr(locked, name, value)
    _save_patient(locked)
    _audited(AuditAction.CHANGE, locked, audit, fields=changed)
    return locked


def patient_archive(*, patient: Patient, archived: bool = True, audit: AuditContext | None = None) -> Patient:
    """Hide a patient from everyday lists (nothing is deleted; records must be kept)."""
    return patient_update(patient=patient, changes={"archived": archived}, audit=audit)


@transaction.atomic
def contact_create(
    *,
    patient: Patient,
    name: str,
    relationship: str,
    phone: str = "",
    email: str = "",
    authority: str = ContactAuthority.NONE,
    audit: AuditContext | None = None,
) -> Contact:
    values = _normalised(
        {"name": name, "relationship": relationship, "phone": phone, "email": email, "authority": authority}
    )
    contact = Contact(organisation_id=patient.organisation_id, patient=patient, **values)
    contact.full_clean()
    contact.save()
    _audited(AuditAction.CREATE, contact, audit)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, changes: Mapping[str, Any], audit: AuditContext | None = None) -> Contact:
    unknown = set(changes) - set(CONTACT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    for name, value in _normalised(changes).items():
        setattr(contact, name, value)
    contact.full_clean()
    contact.save()
    _audited(AuditAction.CHANGE, contact, audit, fields=sorted(changes))
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, audit: AuditContext | None = None) -> None:
    _audited(AuditAction.DELETE, contact, audit)
    contact.delete()


@transaction.atomic
def care_team_member_add(
    *, patient: Patient, practitioner: Staff, added_by: Staff | None = None, audit: AuditContext | None = None
) -> CareTeamMember:
    """Put a practitioner on a patient's care team, giving them a care relationship."""
    if CareTeamMember.objects.filter(patient=patient, practitioner=practitioner).exists():
        raise DomainError("This practitioner is already on the patient's care team.", conflict=True)
    member = CareTeamMember(
        organisation_id=patient.organisation_id, patient=patient, practitioner=practitioner, added_by=added_by
    )
    member.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        raise DomainError("This practitioner is already on the patient's care team.", conflict=True) from exc
    _audited(AuditAction.CREATE, member, audit, added_by, practitioner=str(practitioner.pk))
    return member


@transaction.atomic
def care_team_member_remove(*, patient: Patient, practitioner: Staff, audit: AuditContext | None = None) -> None:
    member = CareTeamMember.objects.filter(patient=patient, practitioner=practitioner).first()
    if member is None:
        raise DomainError("This practitioner is not on the patient's care team.")
    _audited(AuditAction.DELETE, member, audit, practitioner=str(practitioner.pk))
    member.delete()


@transaction.atomic
def note_template_create(*, organisation: Organisation, name: str, section_headings: list[str]) -> NoteTemplate:
    template = NoteTemplate(organisation=organisation, name=name.strip(), section_headings=list(section_headings))
    template.full_clean()
    template.save()
    return template


def _check_appointment(note: ClinicalNote, appointment: Appointment | None) -> None:
    """A note links only to an appointment of its own patient (so of its own organisation), and
    only while it is a draft: a signed note's link is part of the record and never moves."""
    if appointment is None and note.appointment_id is None:
        return
    if note.status != NoteStatus.DRAFT and (appointment is None or appointment.pk != note.appointment_id):
        message = "The appointment of a signed note cannot be changed; add an addendum instead."
        raise DomainError(message, errors={"appointment": [message]}, conflict=True)
    if appointment is None:
        return
    if appointment.organisation_id != note.organisation_id or appointment.patient_id != note.patient_id:
        message = NOT_THIS_PATIENTS_APPOINTMENT
        raise DomainError(message, errors={"appointment": [message]})


def _sections_in_template_order(template: NoteTemplate | None, sections: Mapping[str, str]) -> dict[str, str]:
    if template is None:
        return dict(sections)
    ordered = {heading: sections[heading] for heading in template.section_headings if heading in sections}
    ordered.update({heading: text for heading, text in sections.items() if heading not in ordered})
    return ordered


@transaction.atomic
def note_create(
    *,
    patient: Patient,
    author: Staff,
    text: str = "",
    sections: Mapping[str, str] | None = None,
    template: NoteTemplate | None = None,
    appointment: Appointment | None = None,
    sign: bool = False,
    audit: AuditContext | None = None,
) -> ClinicalNote:
    """Start a draft note (and, with `sign`, sign it: both or neither), optionally for one of
    the patient's appointments (`_check_appointment`).

    Callers check `can_write_notes(author, patient)` first.
    """
    note = ClinicalNote(
        organisation_id=patient.organisation_id,
        patient=patient,
        author=author,
        template=template,
        text=text,
        sections=_sections_in_template_order(template, sections or {}),
    )
    _check_appointment(note, appointment)
    note.appointment = appointment
    note.full_clean()
    note.save()
    _audited(AuditAction.CREATE, note, audit, author)
    if sign:
        note = note_sign(note=note, signer=author, audit=audit)
    return note


def _locked_note(note: ClinicalNote) -> ClinicalNote:
    return ClinicalNote.objects.select_for_update(of=("self",)).select_related("template").get(pk=note.pk)


@transaction.atomic
def note_update(
    *,
    note: ClinicalNote,
    editor: Staff,
    text: str | None = None,
    sections: Mapping[str, str] | None = None,
    template: NoteTemplate | None = None,
    appointment: Appointment | None = _UNCHANGED,
    audit: AuditContext | None = None,
) -> ClinicalNote:
    """Edit a draft. A signed note is never changed: corrections are addenda (409).

    `appointment` links the draft to one of its patient's appointments, or unlinks it (`None`);
    left out, the link stays as it is.
    """
    locked = _locked_note(note)
    if locked.status == NoteStatus.SIGNED:
        raise DomainError("This note is signed and cannot be changed; add an addendum instead.", conflict=True)
    if locked.author_id != editor.pk:
        raise DomainError("Only the author may edit a draft note.")
    if template is not None:
        locked.template = template
    if text is not None:
        locked.text = text
    if sections is not None:
        locked.sections = _sections_in_template_order(locked.template, sections)
    if appointment is not _UNCHANGED:
        _check_appointment(locked, appointment)
        locked.appointment = appointment
    locked.full_clean()
    locked.save()
    _audited(AuditAction.CHANGE, locked, audit, editor)
    return locked


@transaction.atomic
def note_sign(*, note: ClinicalNote, signer: Staff, audit: AuditContext | None = None) -> ClinicalNote:
    """The author signs their draft; from then on it is part of the permanent record."""
    locked = _locked_note(note)
    if locked.status == NoteStatus.SIGNED:
        raise DomainError("This note is already signed.", conflict=True)
    if locked.author_id != signer.pk:
        raise DomainError("Only the author may sign a note.")
    if not locked.text.strip() and not any(value.strip() for value in locked.sections.values()):
        raise DomainError("An empty note cannot be signed.", errors={"text": ["Write something before signing."]})
    locked.status = NoteStatus.SIGNED
    locked.signed_at = timezone.now()
    locked.full_clean()
    locked.save()
    _audited(AuditAction.CHANGE, locked, audit, signer, signed=True)
    return locked


@transaction.atomic
def note_addendum_add(
    *, note: ClinicalNote, author: Staff, text: str, audit: AuditContext | None = None
) -> NoteAddendum:
    """Add to a signed note without changing it. Callers check `can_write_notes` first."""
    locked = _locked_note(note)
    if locked.status != NoteStatus.SIGNED:
        raise DomainError("Addenda are for signed notes; edit the draft instead.", conflict=True)
    if not (text or "").strip():
        raise ValidationError({"text": "Write the addendum."})
    addendum = NoteAddendum(organisation_id=locked.organisation_id, note=locked, author=author, text=text)
    addendum.full_clean()
    addendum.save()
    _audited(AuditAction.CREATE, addendum, audit, author, patient=locked.patient, note=str(locked.pk))
    return addendum


# CSV import ------------------------------------------------------------------------------------

IMPORT_BATCH_SIZE = 2000
IMPORT_PROGRESS_EVERY = 5000


@dataclass
class ImportReport:
    """What an import did: counts, every bad row (row, column, reason) and every duplicate."""

    rows: int = 0
    imported: int = 0
    errors: list[ImportProblem] = field(default_factory=list)
    duplicates: list[ImportProblem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def invalid_rows(self) -> int:
        return len({problem.row for problem in self.errors if problem.row > 1})


def _duplicate_reason(row, seen_nhs, seen_people, existing_nhs, existing_people) -> tuple[str, str] | None:
    if row.nhs_number:
        if row.nhs_number in existing_nhs:
            return "nhs_number", "Same NHS number as an existing patient."
        if row.nhs_number in seen_nhs:
            return "nhs_number", f"Same NHS number as row {seen_nhs[row.nhs_number]}."
    key = row.name_and_birth_key
    if key is not None:
        if key in existing_people:
            return "", "Same name and date of birth as an existing patient."
        if key in seen_people:
            return "", f"Same name and date of birth as row {seen_people[key]}."
    return None


@transaction.atomic
def patients_import(
    *,
    organisation: Organisation,
    lines: Iterable[str],
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    audit: AuditContext | None = None,
) -> ImportReport:
    """Import patients from CSV text: all rows or none, unless `skip_invalid`.

    Every row is validated before anything is written. Duplicates (same NHS number, or same
    name and date of birth, within the file or against the organisation's patients) are
    reported and left out, never doubled. Imports into one organisation run one at a time.
    """
    report = ImportReport()
    header, reader = read_rows(lines)
    mapping = map_header(header)
    report.unknown_columns = mapping.unknown
    if mapping.problems:
        report.errors.extend(mapping.problems)
        return report

    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    existing = Patient.objects.for_organisation(organisation)
    existing_nhs = set(existing.exclude(nhs_number="").values_list("nhs_number", flat=True))
    existing_people = {
        person_key(given, family, born)
        for given, family, born in existing.values_list("given_name", "family_name", "date_of_birth")
    }

    rows = list(reader)
    total = len(rows)
    report.rows = total
    today = timezone.localdate()
    seen_nhs: dict[str, int] = {}
    seen_people: dict[tuple, int] = {}
    to_create: list[Patient] = []
    for index, values in enumerate(rows, start=2):
        if not any(value.strip() for value in values):
            report.rows -= 1
            continue
        row = parse_row(index, values, mapping, today=today)
        if row.problems:
            report.errors.extend(row.problems)
        else:
            duplicate = _duplicate_reason(row, seen_nhs, seen_people, existing_nhs, existing_people)
            if duplicate is not None:
                column, reason = duplicate
                report.duplicates.append(ImportProblem(index, mapping.headers.get(column, column), reason))
            else:
                if row.nhs_number:
                    seen_nhs[row.nhs_number] = index
                seen_people[row.name_and_birth_key] = index
                patient = Patient(organisation=organisation, **row.data)
                patient.refresh_search_columns()
                to_create.append(patient)
        if progress and (index - 1) % IMPORT_PROGRESS_EVERY == 0:
            progress("validated", index - 1, total)
    if progress:
        progress("validated", total, total)

    if (report.errors and not skip_invalid) or dry_run:
        return report
    for start in range(0, len(to_create), IMPORT_BATCH_SIZE):
        batch = to_create[start : start + IMPORT_BATCH_SIZE]
        Patient.objects.bulk_create(batch)
        report.imported += len(batch)
        if progress:
            progress("imported", report.imported, len(to_create))
    report.committed = True
    # One entry for the whole import (it may be hundreds of thousands of rows).
    _audited(AuditAction.CREATE, organisation, audit, import_of="patients", imported=report.imported)
    return report
