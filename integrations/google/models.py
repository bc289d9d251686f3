import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.fields import EncryptedTextField
from core.models import Staff, TenantModel
from integrations.google.choices import CALENDAR_SCOPE, GMAIL_SEND_SCOPE, ConnectionStatus


class GoogleConnection(TenantModel):
    """One staff member's grant to Jelly on their Google account (Calendar and/or Gmail send).

    Tokens are encrypted at rest and never shown, logged or part of `str()`. Invariants: one
    connection per staff member, in the staff member's organisation; a disconnected connection
    holds no tokens; a broken one says when it broke. Only a `connected` connection is pushed to.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    staff = models.OneToOneField(Staff, on_delete=models.CASCADE, related_name="google_connection")
    google_email = models.EmailField(
        blank=True, help_text="The Google account, when known (Jelly asks for no profile scope)."
    )
    access_token = EncryptedTextField(blank=True, editable=False)
    refresh_token = EncryptedTextField(blank=True, editable=False)
    token_expiry = models.DateTimeField(null=True, blank=True)
    granted_scopes = models.JSONField(default=list, blank=True, help_text="Scopes Google granted, not requested.")
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.CONNECTED)
    broken_reason = models.CharField(max_length=300, blank=True)
    broken_at = models.DateTimeField(null=True, blank=True)
    calendar_id = models.CharField(max_length=255, default="primary")
    remove_pushed_events = models.BooleanField(
        default=False, help_text="On disconnect, the staff member asked for events Jelly pushed to be removed."
    )
    disconnect_requested_at = models.DateTimeField(null=True, blank=True)
    broken_notice_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the staff member was emailed that the connection broke (once per break)."
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ConnectionStatus.DISCONNECTED) | (Q(access_token="") & Q(refresh_token="")),
                name="google_connection_disconnected_holds_no_tokens",
            ),
            models.CheckConstraint(
                condition=~Q(status=ConnectionStatus.BROKEN) | Q(broken_at__isnull=False),
                name="google_connection_broken_says_when",
            ),
        ]

    def __str__(self) -> str:
        return f"Google connection of {self.staff} ({self.get_status_display()})"

    def clean(self):
        super().clean()
        if self.staff_id and self.organisation_id and self.staff.organisation_id != self.organisation_id:
            raise ValidationError({"staff": "The staff member belongs to another organisation."})

    @property
    def has_calendar(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED and CALENDAR_SCOPE in (self.granted_scopes or [])

    @property
    def has_gmail(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED and GMAIL_SEND_SCOPE in (self.granted_scopes or [])
