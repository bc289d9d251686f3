from django.db import models


class AppointmentStatus(models.TextChoices):
    """Where an appointment is in its life (the allowed moves are `STATUS_FLOW`)."""

    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    DID_NOT_ATTEND = "did_not_attend", "Did not attend"


# From each status, the statuses it may move to. Cancelled, completed and DNA are final.
# Arrived may go back to booked (the front desk undoes a mistaken arrival) or be cancelled (the
# practitioner falls ill), but only when staff cancel it on purpose: see `diary.services.appointment_cancel`.
# Cancelled stays final here: bringing a future cancelled appointment back is its own action,
# `diary.services.appointment_reinstate`, which books the slot again under every booking rule.
STATUS_FLOW: dict[str, frozenset[str]] = {
    AppointmentStatus.BOOKED: frozenset(
        {AppointmentStatus.ARRIVED, AppointmentStatus.CANCELLED, AppointmentStatus.DID_NOT_ATTEND}
    ),
    AppointmentStatus.ARRIVED: frozenset(
        {AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED}
    ),
    AppointmentStatus.COMPLETED: frozenset(),
    AppointmentStatus.CANCELLED: frozenset(),
    AppointmentStatus.DID_NOT_ATTEND: frozenset(),
}
# Only these may happen once the appointment has started.
STATUSES_ONLY_AFTER_START = frozenset({AppointmentStatus.COMPLETED, AppointmentStatus.DID_NOT_ATTEND})
# An appointment in one of these may still be moved or reassigned.
MOVABLE_STATUSES = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED})


class ChangeKind(models.TextChoices):
    """What an `AppointmentChange` records (the integrations outbox reads it)."""

    CREATED = "created", "Created"
    RESCHEDULED = "rescheduled", "Rescheduled"
    REASSIGNED = "reassigned", "Reassigned to another practitioner"
    UPDATED = "updated", "Details changed"
    STATUS_CHANGED = "status_changed", "Status changed"
    CANCELLED = "cancelled", "Cancelled"
    REINSTATED = "reinstated", "Reinstated after cancellation"


class Weekday(models.IntegerChoices):
    """ISO-style weekday numbers as Python's `date.weekday()` gives them (Monday is 0)."""

    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"
