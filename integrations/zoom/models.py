"""What Jelly stores about an organisation's Zoom account.

Deliberately little: the connection (tokens encrypted), which staff member is which Zoom user
(the id only), which appointments should have a meeting, the meetings Jelly mirrors, the webhook
ledger that makes deliveries idempotent, and an append-only audit of what happened to those
meetings. All of it except the ledger goes when an organisation uninstalls without asking Jelly
to retain its Zoom data (`services.connection_uninstall`).
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from core.fields import EncryptedTextField
from core.models import Organisation, TenantModel
from integrations.zoom.choices import (
    AuditKind,
    AuditSource,
    ConnectionStatus,
    DeliveryStatus,
    UserCreateAction,
    UserLinkOrigin,
)


class ZoomConnection(TenantModel):
    """An organisation's install of Jelly's Zoom app: at most one per organisation.

    Tokens are encrypted at rest and never shown or logged. Zoom rotates the refresh token on
    every refresh, so the stored pair is replaced as one (`services.connection_tokens_store`).
    A connection is only ever used while `connected`; `broken` and `disconnected` stop all
    calls to Zoom without deleting anything else.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED)
    status_reason = models.CharField(max_length=300, blank=True)
    zoom_account_id = models.CharField(
        max_length=64, blank=True, help_text="Zoom's id for the account; webhooks are routed by it."
    )
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.TextField(blank=True)
    retain_data_on_uninstall = models.BooleanField(
        default=False,
        help_text="Keep Zoom user links, meeting records and the Zoom audit log (read-only) after "
        "Zoom is disconnected. Otherwise they are deleted at once.",
    )
    create_users_with_cust_create = models.BooleanField(
        default=False,
        help_text="Create Zoom users with custCreate (no Zoom password or sign-in). Only for Zoom "
        "accounts Zoom has made API partners; others are refused by Zoom.",
    )
    auto_create_for_telehealth = models.BooleanField(
        "create meetings for telehealth automatically",
        default=False,
        help_text="Every booked appointment for a telehealth service gets a Zoom meeting without anyone asking for it.",
    )
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation"], name="zoom_one_connection_per_organisation"),
            # Webhooks carry only Zoom's account id: one live connection per Zoom account.
            models.UniqueConstraint(
                fields=["zoom_account_id"],
                condition=~models.Q(zoom_account_id="") & ~models.Q(status=ConnectionStatus.DISCONNECTED),
                name="zoom_one_live_connection_per_account",
            ),
        ]

    def __str__(self) -> str:
        return f"Zoom for {self.organisation} ({self.get_status_display()})"

    @property
    def is_usable(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED and bool(self.refresh_token)

    @property
    def user_create_action(self) -> str:
        return UserCreateAction.CUST_CREATE if self.create_users_with_cust_create else UserCreateAction.CREATE


class ZoomUserLink(TenantModel):
    """Which Zoom user a staff member is. Only Zoom's user id is kept, nothing else from Zoom."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    staff = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="zoom_user_link")
    zoom_user_id = models.CharField(max_length=64)
    origin = models.CharField(max_length=20, choices=UserLinkOrigin.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "zoom_user_id"], name="zoom_user_linked_once"),
        ]

    def __str__(self) -> str:
        return f"{self.staff} → Zoom user {self.zoom_user_id}"

    def clean(self):
        super().clean()
        if self.staff_id and self.organisation_id and self.staff.organisation_id != self.organisation_id:
            raise ValidationError({"staff": "A Zoom user can only be linked to staff of the same organisation."})


class ZoomMeetingRequest(TenantModel):
    """An appointment that should have a Zoom meeting, and Jelly's unfinished create for it.

    Staff ask for a meeting ("Create Zoom meeting", "Start Zoom call", "Email Zoom link"), or the
    organisation's auto-create for telehealth does (the row is then made at the first create).
    `withdrawn_at` says a meeting is no longer wanted (deleted in Zoom by its host while the
    appointment could not be cancelled, or the appointment was cancelled and then reinstated
    where meetings are not made automatically); a new request from staff clears it.

    `create_started_for` protects "never two meetings for one appointment": it is written, and
    committed, before Jelly asks Zoom to create a meeting and cleared in the transaction that
    records the meeting. Still set at the next attempt, the answer was lost (a timeout, a killed
    worker), so Jelly first looks for the meeting among that Zoom user's meetings (by the
    reference in its agenda) instead of creating another.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.OneToOneField("diary.Appointment", on_delete=models.PROTECT, related_name="zoom_request")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty: created automatically for a telehealth service.",
    )
    requested_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(max_length=300, blank=True)
    create_started_for = models.CharField(
        max_length=64, blank=True, help_text="Zoom user a create was sent for whose answer is not yet recorded."
    )
    create_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Zoom meeting wanted for {self.appointment}" if not self.withdrawn_at else "Zoom meeting withdrawn"

    @property
    def wanted(self) -> bool:
        return self.withdrawn_at is None


class ZoomMeeting(TenantModel):
    """A Zoom meeting Jelly created and mirrors.

    `synced_start_time`/`synced_duration_minutes`/`synced_topic_digest` are what Jelly last sent
    Zoom (written before the call, at `synced_at`): a `meeting.updated` webhook carrying exactly
    these values is the echo of Jelly's own change, and one that happened before `synced_at` was
    overwritten by Jelly's newer change. `update_pending` says that PATCH is not yet confirmed.

    Life: live → retired (Jelly no longer wants it: the appointment was cancelled, or the
    meeting was replaced under a new host; it is deleted in Zoom next, so its `meeting.deleted`
    is an echo) → deleted. A meeting deleted in Zoom by its host goes straight to deleted.
    Invariant: at most one live meeting per appointment (constraint below).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    zoom_meeting_id = models.BigIntegerField(help_text="Zoom's meeting number.")
    # The join URL carries the passcode, so it is a credential: encrypted like one.
    join_url = EncryptedTextField()
    host_zoom_user_id = models.CharField(max_length=64)
    appointment = models.ForeignKey(
        "diary.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="zoom_meetings",
        db_column="appointment_id",
    )
    synced_start_time = models.DateTimeField(null=True, blank=True)
    synced_duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    synced_topic_digest = models.CharField(max_length=64, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    update_pending = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    retired_at = models.DateTimeField(
        null=True, blank=True, help_text="When Jelly stopped wanting the meeting; it is deleted in Zoom next."
    )
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="When the meeting stopped existing in Zoom.")
    flagged_at = models.DateTimeField(
        null=True, blank=True, help_text="A change made in Zoom that Jelly refused; staff should look."
    )
    flag_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "zoom_meeting_id"], name="zoom_meeting_mirrored_once"),
            models.UniqueConstraint(
                fields=["appointment"],
                condition=models.Q(appointment__isnull=False, retired_at__isnull=True, deleted_at__isnull=True),
                name="zoom_one_live_meeting_per_appointment",
            ),
        ]

    def __str__(self) -> str:
        return f"Zoom meeting {self.zoom_meeting_id}"

    @property
    def is_live(self) -> bool:
        return self.retired_at is None and self.deleted_at is None


class ZoomWebhookDelivery(models.Model):
    """The ledger of webhook deliveries: one row per distinct event, so a redelivery or a
    replay has no second effect (`dedupe_key` is unique).

    The payload is kept (encrypted) only until the delivery is processed, then blanked.
    """

    id = models.BigAutoField(primary_key=True)
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dedupe_key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of event, event_ts and object ids.")
    event = models.CharField(max_length=80)
    event_ts = models.BigIntegerField(null=True, blank=True)
    zoom_account_id = models.CharField(max_length=64, blank=True)
    payload = EncryptedTextField(blank=True)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "Zoom webhook deliveries"
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"], name="zoom_delivery_status_idx")]

    def __str__(self) -> str:
        return f"{self.event} at {self.received_at:%Y-%m-%d %H:%M:%S}"


class ZoomAuditEntry(TenantModel):
    """Append-only: what happened to a mirrored meeting, from Jelly or from Zoom.

    Participant names are as Zoom reports them (what people typed when joining). Rows are
    written only by `services.audit_entry_record` and never changed.
    """

    id = models.BigAutoField(primary_key=True)
    meeting = models.ForeignKey(
        ZoomMeeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    zoom_meeting_id = models.BigIntegerField()
    kind = models.CharField(max_length=30, choices=AuditKind.choices)
    source = models.CharField(max_length=10, choices=AuditSource.choices)
    occurred_at = models.DateTimeField()
    participant_display_name = models.CharField(max_length=255, blank=True)
    # Zoom's per-meeting participant id (pairs a join with its leave) and, when the participant
    # is signed in to the account, their Zoom user id (matches a ZoomUserLink).
    participant_user_id = models.CharField(max_length=64, blank=True)
    participant_zoom_user_id = models.CharField(max_length=64, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "Zoom audit entries"
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["organisation", "occurred_at"], name="zoom_audit_org_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · meeting {self.zoom_meeting_id} · {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Zoom audit entries are append-only.")
        super().save(*args, **kwargs)
