"""Patients, their contacts and care team, and the clinical notes written about them.

Every row belongs to one organisation (`TenantModel`); reads go through `visible_to(user)`.
Clinical note content (text, sections, addenda) is encrypted at rest and is read only through
`patients.selectors.notes_visible_to`, by practitioners with a care relationship.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from core.choices import Role
from core.fields import EncryptedTextField
from core.models import TenantModel
from patients.choices import ContactAuthority, Gender, NhsNumberStatus, NoteStatus
from patients.fields import EncryptedJSONField
from patients.search import search_name_text, search_text_for
from patients.validators import (
    format_nhs_number,
    format_phone,
    validate_nhs_number,
    validate_phone,
    validate_postcode,
)


class Patient(TenantModel):
    """A person the clinic cares for.

    Invariants: an NHS number is 10 digits with a valid check digit and unique within the
    organisation (database constraint); postcode and phone are stored normalised (validators);
    a date of death implies deceased and is not before the date of birth (`clean`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True, help_text="What the patient likes to be called.")
    date_of_birth = models.DateField()
    gender = models.CharField("administrative gender", max_length=10, choices=Gender.choices, default=Gender.UNKNOWN)
    nhs_number = models.CharField(
        "NHS number", max_length=10, blank=True, validators=[validate_nhs_number], help_text="10 digits."
    )
    nhs_number_status = models.CharField(
        "NHS number status",
        max_length=20,
        choices=NhsNumberStatus.choices,
        default=NhsNumberStatus.UNVERIFIED,
        editable=False,
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=16, blank=True, validators=[validate_phone])
    address_line1 = models.CharField("address line 1", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8, blank=True, validators=[validate_postcode])
    registered_gp_practice = models.CharField("registered GP practice", max_length=200, blank=True)
    deceased = models.BooleanField(default=False)
    date_of_death = models.DateField(null=True, blank=True)
    archived = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Derived from the names by `refresh_search_columns`; see patients/search.py.
    search_name = models.TextField(default="", editable=False)
    search_text = models.TextField(default="", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "nhs_number"],
                condition=~models.Q(nhs_number=""),
                name="patient_nhs_number_unique_in_organisation",
                violation_error_message="Another patient in this organisation has this NHS number.",
            ),
            models.CheckConstraint(
                condition=models.Q(date_of_death__isnull=True) | models.Q(deceased=True),
                name="patient_date_of_death_only_if_deceased",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "family_name", "given_name"], name="patient_org_name_idx"),
            models.Index(fields=["organisation", "date_of_birth"], name="patient_org_dob_idx"),
            models.Index(fields=["organisation", "postcode"], name="patient_org_postcode_idx"),
            models.Index(fields=["organisation", "phone"], name="patient_org_phone_idx"),
        ]
        # Trigram (pg_trgm) indexes on search_text and phone are created by
        # migration 0002 on PostgreSQL only.

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def nhs_number_display(self) -> str:
        return format_nhs_number(self.nhs_number)

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    def refresh_search_columns(self) -> None:
        self.search_name = search_name_text(self.given_name, self.family_name, self.preferred_name)
        self.search_text = search_text_for(self.given_name, self.family_name, self.preferred_name)

    def clean(self):
        super().clean()
        errors = {}
        today = timezone.localdate()
        if self.date_of_birth and self.date_of_birth > today:
            errors["date_of_birth"] = "The date of birth cannot be in the future."
        if self.date_of_death:
            if self.date_of_death > today:
                errors["date_of_death"] = "The date of death cannot be in the future."
            elif self.date_of_birth and self.date_of_death < self.date_of_birth:
                errors["date_of_death"] = "The date of death cannot be before the date of birth."
            self.deceased = True
        if errors:
            raise ValidationError(errors)
        self.refresh_search_columns()


class Contact(TenantModel):
    """A relative, associate or representative of a patient, and any legal authority they hold."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=100, help_text="For example: mother, partner, carer, neighbour.")
    phone = models.CharField(max_length=16, blank=True, validators=[validate_phone])
    email = models.EmailField(blank=True)
    authority = models.CharField(
        "authority held", max_length=50, choices=ContactAuthority.choices, default=ContactAuthority.NONE
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.relationship})"

    def clean(self):
        super().clean()
        if self.patient_id and self.organisation_id and self.patient.organisation_id != self.organisation_id:
            raise ValidationError({"patient": "The patient belongs to another organisation."})


class CareTeamMember(TenantModel):
    """A practitioner explicitly caring for a patient: one source of a care relationship.

    Invariant: the practitioner is active staff with the practitioner role in the patient's
    organisation (`clean`), and is on a patient's team at most once (constraint).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_team")
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "care team member"
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "practitioner"],
                name="care_team_member_once_per_patient",
                violation_error_message="This practitioner is already on the patient's care team.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} caring for {self.patient}"

    def clean(self):
        super().clean()
        if self.patient_id and self.organisation_id and self.patient.organisation_id != self.organisation_id:
            raise ValidationError({"patient": "The patient belongs to another organisation."})
        if self.practitioner_id:
            practitioner = self.practitioner
            if practitioner.organisation_id != self.organisation_id or not practitioner.has_role(Role.PRACTITIONER):
                raise ValidationError({"practitioner": "Choose an active practitioner of this organisation."})


class NoteTemplate(TenantModel):
    """A clinic's layout for clinical notes: section headings in order (e.g. SOAP)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    section_headings = models.JSONField(default=list, help_text="Section headings, in order.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="note_template_name_unique_in_organisation"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        headings = self.section_headings
        if not isinstance(headings, list) or not all(isinstance(heading, str) for heading in headings):
            raise ValidationError({"section_headings": "Give the section headings as a list of text."})
        cleaned = [heading.strip() for heading in headings]
        if not cleaned or any(not heading for heading in cleaned):
            raise ValidationError({"section_headings": "A template needs at least one heading, and none blank."})
        if len({heading.lower() for heading in cleaned}) != len(cleaned):
            raise ValidationError({"section_headings": "Each heading may appear only once."})
        self.section_headings = cleaned


class ClinicalNote(TenantModel):
    """A practitioner's record of care for a patient.

    A note starts as a draft its author may edit; once signed it never changes (the services
    refuse, and the signed state is fixed by the check constraint): corrections are addenda.
    It may be linked to one of the same patient's appointments, while it is a draft.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="clinical_notes")
    # PROTECT, not SET_NULL: a signed note is part of the permanent record and must go on saying
    # which appointment it was written for. Appointments are cancelled, never deleted, so this
    # only refuses a deletion that should not happen rather than dropping the link silently.
    # Same organisation and same patient are checked by `patients.services` (`_check_appointment`).
    appointment = models.ForeignKey(
        "diary.Appointment", on_delete=models.PROTECT, null=True, blank=True, related_name="clinical_notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(NoteTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    text = EncryptedTextField(blank=True)
    sections = EncryptedJSONField(default=dict, blank=True, help_text="Template heading → text, in order.")
    status = models.CharField(max_length=10, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(status=NoteStatus.SIGNED) & models.Q(signed_at__isnull=False))
                | (models.Q(status=NoteStatus.DRAFT) & models.Q(signed_at__isnull=True)),
                name="clinical_note_signed_at_iff_signed",
            ),
        ]
        indexes = [models.Index(fields=["patient", "created_at"], name="clinical_note_patient_idx")]

    def __str__(self) -> str:
        # Never the content: this string appears in logs and admin breadcrumbs.
        return f"Clinical note {self.id} ({self.get_status_display()})"

    @property
    def is_signed(self) -> bool:
        return self.status == NoteStatus.SIGNED

    def clean(self):
        super().clean()
        if self.patient_id and self.organisation_id and self.patient.organisation_id != self.organisation_id:
            raise ValidationError({"patient": "The patient belongs to another organisation."})
        if not isinstance(self.sections, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in self.sections.items()
        ):
            raise ValidationError({"sections": "Sections map each heading to its text."})
        if self.template_id is not None:
            if self.template.organisation_id != self.organisation_id:
                raise ValidationError({"template": "The template belongs to another organisation."})
            unknown = [heading for heading in self.sections if heading not in self.template.section_headings]
            if unknown:
                raise ValidationError({"sections": f"Not a heading of this template: {', '.join(unknown)}."})


class NoteAddendum(TenantModel):
    """A later addition to a signed note; it never changes the original and is never edited."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    note = models.ForeignKey(ClinicalNote, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "note addenda"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Addendum {self.id}"
