"""The seam between Zoom and the diary.

`on_meeting_changed` is called, inside the transaction that processes the webhook (the meeting
row locked), when a meeting Jelly mirrors was changed or deleted *in Zoom* — never for the echo
of Jelly's own change (`services._meeting_event_apply` recognises those). It hands the change to
`services.appointment_follow_zoom_change`:

- a new time or length moves the appointment through the diary's booking rules; a move they
  refuse is not applied, the meeting is flagged for staff and set back to the appointment's time;
- a deletion cancels the appointment with reason "Zoom meeting deleted by host" and emails the
  practitioner.
"""

from dataclasses import dataclass
from datetime import datetime

CHANGE_UPDATED = "updated"
CHANGE_DELETED = "deleted"


@dataclass(frozen=True)
class MeetingChange:
    """What Zoom says changed. For `updated`, a field Zoom did not mention is None."""

    kind: str  # CHANGE_UPDATED or CHANGE_DELETED
    occurred_at: datetime
    start_time: datetime | None = None
    duration_minutes: int | None = None


def on_meeting_changed(meeting, change: MeetingChange) -> None:
    """A mirrored meeting changed in Zoom: make its appointment follow, by the diary's rules."""
    from integrations.zoom import services  # services import this module

    services.appointment_follow_zoom_change(meeting=meeting, change=change)
