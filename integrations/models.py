"""The integrations engine's rows: the outbox, patient email, and per-organisation settings.

- `OutboxEntry`: one row per (destination, appointment), level-triggered. The diary's change
  listener moves `wanted_version` up in the transaction of the change; a worker claims the row
  with a lease, pushes the appointment's *current* state outside any transaction, and records
  `pushed_version` conditionally on still holding the lease. Ten quick edits therefore cost one
  push, and an old change can never overwrite a newer one.
- `EmailDelivery`: the content-free record of one email to a patient (what kind, about which
  appointment, when, whether it went and why not). Its `dedupe_key` is unique, so nothing is
  sent twice. `OutgoingEmail` holds the rendered message (encrypted) only until Gmail or the
  mail server accepts it, then it is deleted.
- `EmailTemplate`: the clinic's own wording for each kind of email.
- `IntegrationSettings`: per-organisation choices (how patient names show in calendars,
  reminders, the clinic's designated Gmail sender).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.fields import EncryptedTextField
from core.models import TenantModel
from integrations.choices import EmailKind, EmailStatus, EmailTransport, OutboxStatus, PatientNameDisplay
from integrations.mail import REQUIRED_PLACEHOLDERS, template_problems


class IntegrationSettings(TenantModel):
    """An organisation's choices for calendar sync and patient email (at most one row; the
    defaults apply while there is none)."""

    patient_name_display = models.CharField(
        "patient name in calendars",
        max_length=30,
        choices=PatientNameDisplay.choices,
        default=PatientNameDisplay.FULL_NAME,
        help_text="How the patient's name appears in practitioners' Google Calendars.",
    )
    appointment_emails_enabled = models.BooleanField(
        "appointment emails",
        default=True,
        help_text="Email patients (who consented) when an appointment is booked, changed or cancelled.",
    )
    reminders_enabled = models.BooleanField(default=True)
    reminder_hours_before = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(168)], help_text="1 to 168 hours."
    )
    clinic_sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Staff member whose Gmail sends patient email when the practitioner has no Gmail connected.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "integration settings"
        verbose_name_plural = "integration settings"
        constraints = [
            models.UniqueConstraint(fields=["organisation"], name="integration_settings_one_per_organisation"),
            models.CheckConstraint(
                condition=Q(reminder_hours_before__gte=1, reminder_hours_before__lte=168),
                name="integration_settings_reminder_1_to_168_hours",
            ),
        ]

    def __str__(self) -> str:
        return "Integration settings"

    def clean(self):
        super().clean()
        sender = self.clinic_sender if self.clinic_sender_id else None
        if sender is not None and self.organisation_id and sender.organisation_id != self.organisation_id:
            raise ValidationError({"clinic_sender": "Choose a staff member of this organisation."})


class OutboxEntry(TenantModel):
    """What one destination (e.g. Google Calendar) should show for one appointment.

    Invariants: one row per (destination, appointment) (unique constraint); only the worker
    holding `lease_token` may record an outcome; `pushed_version <= wanted_version` is not
    required (a push reads the appointment's newest version), but `done` means
    `pushed_version >= wanted_version`. The remote fields say where the pushed copy lives now
    (calendar owner, calendar, event id), and `remote_stale` lists earlier copies still to be
    removed (e.g. the old practitioner's calendar, while their connection is broken).
    """

    id = models.BigAutoField(primary_key=True)
    destination = models.CharField(max_length=40)
    appointment = models.ForeignKey("diary.Appointment", on_delete=models.PROTECT, related_name="outbox_entries")
    wanted_version = models.PositiveIntegerField(default=0)
    pushed_version = models.PositiveIntegerField(default=0, help_text="0: never pushed.")
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts since the last success.")
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    remote_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Whose account holds the pushed copy (e.g. the calendar's practitioner).",
    )
    remote_container = models.CharField(max_length=255, blank=True, help_text="e.g. the Google calendar id.")
    remote_id = models.CharField(max_length=255, blank=True, help_text="e.g. the Google event id.")
    remote_stale = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "outbox entry"
        verbose_name_plural = "outbox entries"
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["destination", "appointment"], name="outbox_one_row_per_destination"),
            models.CheckConstraint(
                condition=~Q(status=OutboxStatus.DEAD) | Q(dead_at__isnull=False), name="outbox_dead_says_when"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["organisation", "status"], name="outbox_org_status_idx"),
            models.Index(fields=["remote_owner", "destination"], name="outbox_remote_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.destination} for appointment {self.appointment_id} ({self.get_status_display()})"

    @property
    def stale_owner_ids(self) -> set[str]:
        return {str(item.get("owner")) for item in self.remote_stale or [] if item.get("owner")}


class EmailTemplate(TenantModel):
    """The clinic's wording for one kind of email: Django template text, rendered with plain
    values only (names, date, time, service...), never with model objects."""

    kind = models.CharField(max_length=20, choices=EmailKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text="Plain text. Placeholders such as {{ patient_first_name }}, {{ date }}.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "kind"], name="email_template_one_per_kind"),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    def clean(self):
        super().clean()
        required = {"body": REQUIRED_PLACEHOLDERS.get(self.kind, ())}
        errors = {
            field: problem
            for field in ("subject", "body")
            if (problem := template_problems(getattr(self, field) or "", required=required.get(field, ())))
        }
        if errors:
            raise ValidationError(errors)


class EmailDelivery(TenantModel):
    """One email to a patient, content-free: the guarantee that it is sent at most once.

    Invariants: `dedupe_key` is unique (the same confirmation, reminder or letter is never
    recorded, so never sent, twice); `sent` says when; `skipped` says why.
    """

    id = models.BigAutoField(primary_key=True)
    dedupe_key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=EmailKind.choices)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(  # leads email_appointment_kind_idx
        "diary.Appointment", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    appointment_start = models.DateTimeField(
        null=True, blank=True, help_text="The appointment's start the email was about (reminders are per start)."
    )
    from_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Whose Gmail it goes from, if they have connected Gmail.",
    )
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    skip_reason = models.CharField(max_length=200, blank=True)
    transport = models.CharField(max_length=10, choices=EmailTransport.choices, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "email delivery"
        verbose_name_plural = "email deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=EmailStatus.SENT) | Q(sent_at__isnull=False), name="email_sent_says_when"
            ),
            models.CheckConstraint(
                condition=~Q(status=EmailStatus.SKIPPED) | ~Q(skip_reason=""), name="email_skipped_says_why"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="email_due_idx"),
            models.Index(fields=["appointment", "kind"], name="email_appointment_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class OutgoingEmail(TenantModel):
    """The rendered message of a pending `EmailDelivery`, encrypted; deleted once accepted."""

    delivery = models.OneToOneField(EmailDelivery, on_delete=models.CASCADE, related_name="message")
    to_address = EncryptedTextField()
    subject = EncryptedTextField()
    body = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"Message for email delivery {self.delivery_id}"
