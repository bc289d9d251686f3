"""The seam between Zoom and the diary.

`on_meeting_changed` is called, inside the transaction that processes the webhook, when a
meeting Jelly mirrors was changed or deleted *in Zoom* (never for the echo of Jelly's own
change). Today it only records that it was called: the appointment is NOT moved or cancelled.

The diary issue implements moving/cancelling the appointment here: a time or length change
goes through the diary's booking rules (refused and restored if it would double-book), a
deletion cancels the appointment with reason "Zoom meeting deleted by host".
"""

import logging
from dataclasses import dataclass
from datetime import datetime

logger = logging.getLogger(__name__)

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
    """A mirrored meeting changed in Zoom. Not yet applied to the appointment (see module doc)."""
    logger.info(
        "Zoom meeting %s was %s in Zoom; the appointment is not changed (diary not built yet)",
        meeting.zoom_meeting_id,
        change.kind,
    )
