"""Reads of the Zoom integration, scoped to the reader's organisation."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from core.models import Staff
from diary.choices import MOVABLE_STATUSES
from integrations.choices import OutboxStatus
from integrations.zoom.choices import ZOOM_MEETING, AuditKind, ConnectionStatus, DeliveryStatus
from integrations.zoom.models import (
    ZoomAuditEntry,
    ZoomConnection,
    ZoomMeeting,
    ZoomMeetingRequest,
    ZoomWebhookDelivery,
)


def meetings_made_automatically(appointment) -> bool:
    """Whether Jelly makes this appointment's meeting by itself: a telehealth service, in an
    organisation whose Zoom is connected with automatic meetings on (one query, only then)."""
    return appointment.service.is_telehealth and (
        ZoomConnection.objects.filter(
            organisation_id=appointment.organisation_id,
            status=ConnectionStatus.CONNECTED,
            auto_create_for_telehealth=True,
        ).exists()
    )


def connection_visible_to(user) -> ZoomConnection | None:
    return ZoomConnection.objects.visible_to(user).select_related("connected_by").first()


def staff_with_zoom_links(user) -> QuerySet[Staff]:
    """Active staff of the user's organisation, each with its Zoom link (or None)."""
    return (
        Staff.objects.visible_to(user)
        .filter(is_active=True)
        .select_related("zoom_user_link")
        .order_by("family_name", "given_name", "email")
    )


def staff_without_zoom_user(user) -> QuerySet[Staff]:
    return staff_with_zoom_links(user).filter(zoom_user_link__isnull=True)


def audit_entries_visible_to(user) -> QuerySet[ZoomAuditEntry]:
    return ZoomAuditEntry.objects.visible_to(user).select_related("meeting").order_by("-occurred_at", "-id")


def webhook_deliveries_stuck(*, older_than: timedelta, max_attempts: int) -> list[int]:
    """Deliveries recorded but not applied (a lost task, a failed attempt), oldest first."""
    return list(
        ZoomWebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.RECEIVED, DeliveryStatus.FAILED],
            attempts__lt=max_attempts,
            received_at__lt=timezone.now() - older_than,
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )


def flagged_meetings_visible_to(user) -> QuerySet[ZoomMeeting]:
    """Meetings with a change made in Zoom that Jelly refused, for staff to look at."""
    return (
        ZoomMeeting.objects.visible_to(user)
        .filter(flagged_at__isnull=False)
        .select_related("appointment")
        .order_by("-flagged_at")
    )


# --- One appointment's Zoom panel --------------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    """Derived from the participant joined/left entries: the host is the practitioner, anyone
    else counts as the patient. `overlap` is how long both were in the meeting together."""

    practitioner_joined: bool
    patient_joined: bool
    overlap: timedelta
    ongoing: bool

    @property
    def overlapped(self) -> bool:
        return self.overlap > timedelta(0)

    @property
    def overlap_minutes(self) -> int:
        return int(self.overlap.total_seconds() // 60)


_JOINS = {AuditKind.HOST_JOINED: "host", AuditKind.PARTICIPANT_JOINED: "patient"}
_LEAVES = {AuditKind.HOST_LEFT: "host", AuditKind.PARTICIPANT_LEFT: "patient"}


def attendance_from(entries, *, now: datetime | None = None) -> Attendance | None:
    """Walk the entries in time order counting who is in (a leave never takes a count below
    zero, so a duplicate or a lost join cannot); time with both counts above zero overlaps.
    Someone still in at the end stays until the meeting ended, or now if it has not."""
    events = sorted(
        (entry for entry in entries if entry.kind in _JOINS or entry.kind in _LEAVES or entry.kind == AuditKind.ENDED),
        key=lambda entry: (entry.occurred_at, entry.kind in _JOINS),
    )
    if not any(entry.kind in _JOINS for entry in events):
        return None
    inside = {"host": 0, "patient": 0}
    joined = {"host": False, "patient": False}
    overlap = timedelta(0)
    together_since = None
    for entry in events:
        if entry.kind == AuditKind.ENDED:
            inside = {"host": 0, "patient": 0}
        elif entry.kind in _JOINS:
            inside[_JOINS[entry.kind]] += 1
            joined[_JOINS[entry.kind]] = True
        else:
            who = _LEAVES[entry.kind]
            inside[who] = max(0, inside[who] - 1)
        both = inside["host"] > 0 and inside["patient"] > 0
        if both and together_since is None:
            together_since = entry.occurred_at
        elif not both and together_since is not None:
            overlap += entry.occurred_at - together_since
            together_since = None
    ongoing = together_since is not None
    if ongoing:
        overlap += (now or timezone.now()) - together_since
    return Attendance(
        practitioner_joined=joined["host"], patient_joined=joined["patient"], overlap=overlap, ongoing=ongoing
    )


@dataclass
class AppointmentZoomPanel:
    appointment: object
    connection: ZoomConnection | None
    meeting: ZoomMeeting | None
    flagged: list[ZoomMeeting]
    entries: list[ZoomAuditEntry]
    attendance: Attendance | None
    outbox_entry: object
    requested: bool
    is_host: bool
    # The "Email Zoom link" form's one-time token: a double click sends one email.
    email_token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def connected(self) -> bool:
        return bool(self.connection and self.connection.status == ConnectionStatus.CONNECTED)

    @property
    def can_act(self) -> bool:
        return self.connected and self.appointment.status in MOVABLE_STATUSES

    @property
    def shown(self) -> bool:
        return self.connected or self.meeting is not None or bool(self.entries)

    @property
    def pending(self) -> bool:
        return self.outbox_entry is not None and self.outbox_entry.status == OutboxStatus.PENDING

    @property
    def failed(self) -> bool:
        return self.outbox_entry is not None and self.outbox_entry.status in (OutboxStatus.DEAD, OutboxStatus.BLOCKED)


def appointment_zoom_panel(*, user, appointment) -> AppointmentZoomPanel | None:
    """What the appointment page shows about Zoom (None if the appointment is not the user's
    organisation's). A fixed number of queries."""
    from integrations.models import OutboxEntry

    if appointment is None or appointment.organisation_id != getattr(user, "organisation_id", None):
        return None
    meetings = list(ZoomMeeting.objects.visible_to(user).filter(appointment_id=appointment.pk))
    entries = list(
        ZoomAuditEntry.objects.visible_to(user)
        .filter(meeting__appointment_id=appointment.pk)
        .order_by("occurred_at", "id")
    )
    return AppointmentZoomPanel(
        appointment=appointment,
        connection=ZoomConnection.objects.visible_to(user).first(),
        meeting=next((meeting for meeting in meetings if meeting.is_live), None),
        flagged=[meeting for meeting in meetings if meeting.flagged_at],
        entries=entries,
        attendance=attendance_from(entries),
        outbox_entry=OutboxEntry.objects.visible_to(user)
        .filter(destination=ZOOM_MEETING, appointment_id=appointment.pk)
        .first(),
        requested=ZoomMeetingRequest.objects.visible_to(user)
        .filter(appointment_id=appointment.pk, withdrawn_at__isnull=True)
        .exists(),
        is_host=appointment.practitioner_id == user.pk,
    )
