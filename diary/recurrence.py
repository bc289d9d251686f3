"""Recurring appointments: "every week for N weeks", "every 2 weeks until a date".

Occurrences are planned in wall-clock time (Europe/London) with python-dateutil's RFC 5545
rrule, so a 10:00 appointment stays at 10:00 when the clocks change.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule
from django.utils import timezone

MAX_OCCURRENCES = 52


@dataclass(frozen=True)
class Recurrence:
    """Weekly, every `interval_weeks` weeks, either `count` times or until `until` (inclusive)."""

    interval_weeks: int = 1
    count: int | None = None
    until: date | None = None

    def __post_init__(self):
        if self.interval_weeks < 1 or self.interval_weeks > 12:
            raise ValueError("Repeat every 1 to 12 weeks.")
        if (self.count is None) == (self.until is None):
            raise ValueError("Give either a number of times or an end date, not both.")
        if self.count is not None and not 2 <= self.count <= MAX_OCCURRENCES:
            raise ValueError(f"Repeat between 2 and {MAX_OCCURRENCES} times.")

    def rrule_text(self) -> str:
        parts = ["FREQ=WEEKLY", f"INTERVAL={self.interval_weeks}"]
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        else:
            parts.append(f"UNTIL={self.until:%Y%m%d}T235959")
        return ";".join(parts)

    def starts(self, first_start: datetime) -> list[datetime]:
        """The aware start of each occurrence, the first being `first_start`."""
        local_first = timezone.localtime(first_start).replace(tzinfo=None)
        until = datetime.combine(self.until, time.max) if self.until else None
        rule = rrule.rrule(
            rrule.WEEKLY, dtstart=local_first, interval=self.interval_weeks, count=self.count, until=until
        )
        starts = [timezone.make_aware(naive).astimezone(UTC) for naive in rule[:MAX_OCCURRENCES]]
        if self.until is not None and len(starts) < 2:
            raise ValueError("The end date leaves fewer than two appointments.")
        return starts


def rrule_until(text: str, before: datetime) -> str:
    """`text` with its end moved to just before `before` (for "cancel this and following")."""
    kept = [part for part in text.split(";") if not part.startswith(("COUNT=", "UNTIL="))]
    last = timezone.localtime(before - timedelta(seconds=1)).replace(tzinfo=None)
    return ";".join([*kept, f"UNTIL={last:%Y%m%dT%H%M%S}"])
