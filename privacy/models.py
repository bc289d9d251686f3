"""Consent records, objections to NHS-number sharing, the disclosure decision log, break-glass
grants and the tamper-evident access audit.

Every row belongs to one organisation (`TenantModel`); reads go through `visible_to(user)` and
writes through `privacy.services`. Consent records and audit entries are never changed: a new
decision is a new record (the current state is the latest one), and on PostgreSQL a trigger
refuses UPDATE and DELETE on the audit table (migration 0002).
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator
from django.db import models
from django.utils import timezone

from core.models import Organisation, TenantModel, organisation_indexed_elsewhere
from patients.fields import EncryptedJSONField
from privacy.choices import (
    AuditAction,
    ConsentDecision,
    ConsentPurpose,
    DisclosurePurpose,
    RecipientCategory,
    RecordingMethod,
)

GENESIS_HASH = "0" * 64


def _same_organisation_as_patient(instance) -> None:
    if (
        instance.patient_id
        and instance.organisation_id
        and instance.patient.organisation_id != instance.organisation_id
    ):
        raise ValidationError({"patient": "The patient belongs to another organisation."})


class CustomConsentPurpose(TenantModel):
    """A purpose an organisation asks its patients' consent for, beyond the built-in ones.

    Invariant: the code is unique in the organisation and never one of the built-in purposes,
    so a custom purpose can never stand in for (or loosen) a built-in one.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(max_length=64, help_text="Short identifier, e.g. newsletter.")
    label = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "consent purpose"
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"], name="consent_purpose_code_unique_in_organisation"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self):
        super().clean()
        if self.code in ConsentPurpose.values:
            raise ValidationError({"code": "This is one of Jelly's built-in purposes; choose another code."})


class Consent(TenantModel):
    """One consent decision of a patient for one purpose. Never changed or deleted.

    The current state of a purpose is the latest record for it (`privacy.consent`); a `given`
    consent past its expiry counts as none. Invariant: only a `given` decision has an expiry
    (check constraint), and the purpose is built in or one of the organisation's own (`clean`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(max_length=64)
    decision = models.CharField(max_length=10, choices=ConsentDecision.choices)
    method = models.CharField("how", max_length=20, choices=RecordingMethod.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Leave empty if it does not expire.")
    evidence = models.TextField(blank=True, help_text="Where the evidence is, e.g. 'signed form scanned 3 May'.")

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision__in=ConsentDecision.values), name="consent_decision_known"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__isnull=True) | models.Q(decision=ConsentDecision.GIVEN),
                name="consent_expiry_only_when_given",
            ),
        ]
        indexes = [models.Index(fields=["patient", "purpose", "recorded_at"], name="consent_patient_purpose_idx")]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.get_decision_display()}"

    def clean(self):
        super().clean()
        _same_organisation_as_patient(self)
        errors = {}
        if self.purpose and self.purpose not in ConsentPurpose.values:
            custom = CustomConsentPurpose.objects.filter(
                organisation_id=self.organisation_id, code=self.purpose, is_active=True
            )
            if not custom.exists():
                errors["purpose"] = "Choose one of the consent purposes."
        if self.expires_at is not None:
            if self.decision != ConsentDecision.GIVEN:
                errors["expires_at"] = "Only a consent that is given can have an expiry."
            elif self.expires_at <= (self.recorded_at or timezone.now()):
                errors["expires_at"] = "The expiry must be in the future."
        if errors:
            raise ValidationError(errors)


class NhsNumberObjection(TenantModel):
    """The patient's objection (UK GDPR Art. 21) to their NHS number being shared with or used by
    other organisations to link their health and social care records. Not the National Data
    Opt-out, which is a separate national scheme.

    While active (not withdrawn), `privacy.outbound` keeps the NHS number out of everything that
    leaves Jelly and refuses linkage by it; care inside the clinic is unaffected. Invariants: a
    patient has at most one active objection (unique constraint); staff confirmed they explained
    what it means before recording it (check constraint).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="nhs_number_objections")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    method = models.CharField("how", max_length=20, choices=RecordingMethod.choices)
    note = models.TextField(blank=True)
    explanation_given = models.BooleanField(
        default=False, help_text="Staff explained what the objection means for the patient's care."
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_method = models.CharField(max_length=20, choices=RecordingMethod.choices, blank=True)
    withdrawal_note = models.TextField(blank=True)

    class Meta:
        verbose_name = "NHS-number objection"
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="nhs_number_objection_one_active_per_patient",
                violation_error_message="This patient's objection is already recorded.",
            ),
            models.CheckConstraint(
                condition=models.Q(explanation_given=True), name="nhs_number_objection_explained_first"
            ),
            models.CheckConstraint(
                condition=(models.Q(withdrawn_at__isnull=True) & models.Q(withdrawal_method=""))
                | (models.Q(withdrawn_at__isnull=False) & ~models.Q(withdrawal_method="")),
                name="nhs_number_objection_withdrawal_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"NHS-number objection ({'withdrawn' if self.withdrawn_at else 'active'})"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None

    def clean(self):
        super().clean()
        _same_organisation_as_patient(self)
        if not self.explanation_given:
            raise ValidationError(
                {"explanation_given": "Explain to the patient what the objection means before recording it."}
            )


class Disclosure(TenantModel):
    """One disclosure decision, allowed or denied, exactly as it was made: the decision log.

    The decision (`allowed`, `reasons`, the categories released and the consent/objection state
    checked) comes from `privacy.policy.decide_disclosure` and is never changed. An allowed
    disclosure is then released once: the minimised package of exactly the released categories
    is kept (encrypted) as sent. Invariant: only an allowed decision is ever released (check).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="disclosures")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    recipient_category = models.CharField(max_length=40, choices=RecipientCategory.choices)
    recipient_name = models.CharField(max_length=200)
    recipient_details = models.TextField(blank=True, help_text="Organisation, role, address or other contact details.")
    recipient_contact = models.ForeignKey(
        "patients.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="When the recipient is one of the patient's recorded contacts (their authority is checked).",
    )
    purpose = models.CharField(max_length=30, choices=DisclosurePurpose.choices)
    lawful_basis = models.TextField(blank=True)
    legal_reference = models.CharField(max_length=200, blank=True)
    data_categories_requested = models.JSONField(default=list)
    data_categories_released = models.JSONField(default=list, blank=True)
    allowed = models.BooleanField()
    reasons = models.JSONField(default=list, blank=True)
    checked_state = models.JSONField(default=dict, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    package = EncryptedJSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(released_at__isnull=True) | models.Q(allowed=True),
                name="disclosure_released_only_if_allowed",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "requested_at"], name="disclosure_patient_idx"),
            models.Index(fields=["organisation", "requested_at"], name="disclosure_org_idx"),
        ]

    def __str__(self) -> str:
        return f"Disclosure to {self.recipient_name} ({'allowed' if self.allowed else 'denied'})"

    def clean(self):
        super().clean()
        _same_organisation_as_patient(self)
        if self.recipient_contact_id and self.recipient_contact.patient_id != self.patient_id:
            raise ValidationError({"recipient_contact": "Choose one of this patient's contacts."})

    @property
    def is_released(self) -> bool:
        return self.released_at is not None


class BreakGlassGrant(TenantModel):
    """Time-limited emergency access to a patient's clinical notes for a practitioner without a
    care relationship, on a stated reason. Read only; every use is audited with the reason, and
    the organisation's admin reviews each grant.

    Invariants: it ends after it starts (check constraint); reviewed together with its reviewer.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(validators=[MinLengthValidator(10)])
    granted_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField(blank=True)

    class Meta:
        verbose_name = "break-glass grant"
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("granted_at")), name="break_glass_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(reviewed_at__isnull=True, reviewed_by__isnull=True)
                | models.Q(reviewed_at__isnull=False, reviewed_by__isnull=False),
                name="break_glass_reviewed_with_reviewer",
            ),
        ]
        indexes = [
            models.Index(fields=["practitioner", "patient", "expires_at"], name="break_glass_lookup_idx"),
            models.Index(fields=["organisation", "reviewed_at"], name="break_glass_review_idx"),
        ]

    def __str__(self) -> str:
        return f"Break-glass grant {self.granted_at:%d/%m/%Y %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()

    def clean(self):
        super().clean()
        _same_organisation_as_patient(self)


class ErasureRequest(TenantModel):
    """A patient's request to have their data erased, as received. Recorded here; deciding and
    carrying it out belongs to the retention rules (a later issue), which must check what the
    law requires the clinic to keep. Never deleted, so the request itself stays on record."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="erasure_requests")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    method = models.CharField("how", max_length=20, choices=RecordingMethod.choices)
    details = models.TextField(help_text="What the patient asked to be erased, in their words where possible.")

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"Erasure request {self.recorded_at:%d/%m/%Y}"

    def clean(self):
        super().clean()
        _same_organisation_as_patient(self)


class AuditChainHead(models.Model):
    """The end of one organisation's audit chain: the last sequence number and hash.

    Appending locks this row (SELECT ... FOR UPDATE), so concurrent writers queue and the chain
    never forks. Internal to `privacy.services.audit_entry_record`.
    """

    organisation = models.OneToOneField(Organisation, on_delete=models.PROTECT, primary_key=True, related_name="+")
    sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"Audit chain head #{self.sequence}"


class AuditEntry(TenantModel):
    """Who did what to which record, when, from where and why. Append-only and hash-chained.

    Each entry stores the previous entry's hash (per organisation, in `sequence` order) and its
    own hash over a canonical JSON of its fields and that previous hash (`privacy.audit`), so a
    changed, removed or inserted entry breaks the chain (`manage.py verify_audit_chain`). Actor
    and patient are kept as bare ids (no database constraint) with the actor's name and role
    copied in, so the log outlives the rows it speaks of. Details never hold clinical content.
    """

    # Both lead composite indexes (the sequence constraint, audit_entry_patient_idx).
    organisation = organisation_indexed_elsewhere()
    id = models.BigAutoField(primary_key=True)
    sequence = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(max_length=200, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    ip_address = models.CharField("IP address", max_length=45, blank=True)
    purpose = models.CharField(max_length=30, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "sequence"], name="audit_entry_sequence_unique"),
        ]
        indexes = [
            models.Index(fields=["patient", "occurred_at"], name="audit_entry_patient_idx"),
            models.Index(fields=["organisation", "occurred_at"], name="audit_entry_org_time_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.get_action_display()} {self.object_type}"
