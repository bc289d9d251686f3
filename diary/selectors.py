"""Reads for the diary. Each starts from `visible_to(user)`, with related rows loaded."""

import dataclasses
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from core.models import Location, Staff
from diary.choices import AppointmentStatus
from diary.models import Appointment, AppointmentChange, Room, Service, TimeOff, WorkingHours

SLOT_STEP_MINUTES = 15
NEXT_FREE_SLOT_DAYS = 42


def appointment_list(*, user) -> QuerySet[Appointment]:
    return Appointment.objects.visible_to(user).select_related("patient", "practitioner", "service", "location", "room")


def appointment_get(*, user, pk) -> Appointment:
    """The appointment if the user's organisation holds it; `Appointment.DoesNotExist` otherwise."""
    return appointment_list(user=user).get(pk=pk)


def appointment_changes(*, user, appointment: Appointment) -> QuerySet[AppointmentChange]:
    return AppointmentChange.objects.visible_to(user).filter(appointment=appointment).select_related("by")


def practitioner_list(*, user) -> QuerySet[Staff]:
    return Staff.objects.visible_to(user).practitioners().order_by("given_name", "family_name", "pk")


def service_list(*, user, active_only: bool = False) -> QuerySet[Service]:
    services = Service.objects.visible_to(user)
    return services.filter(is_active=True) if active_only else services


def location_list(*, user, active_only: bool = False) -> QuerySet[Location]:
    locations = Location.objects.visible_to(user)
    return locations.filter(is_active=True) if active_only else locations


def room_list(*, user, location: Location | None = None) -> QuerySet[Room]:
    rooms = Room.objects.visible_to(user).filter(is_active=True).select_related("location")
    return rooms.filter(location=location) if location is not None else rooms


def working_hours_list(*, user, practitioner: Staff | None = None) -> QuerySet[WorkingHours]:
    hours = WorkingHours.objects.visible_to(user).select_related("location")
    return hours.filter(practitioner=practitioner) if practitioner is not None else hours


def time_off_between(*, user, start: datetime, end: datetime) -> QuerySet[TimeOff]:
    return TimeOff.objects.visible_to(user).filter(start__lt=end, end__gt=start)


def live_appointments_between(*, user, start: datetime, end: datetime) -> QuerySet[Appointment]:
    return (
        appointment_list(user=user)
        .filter(start__lt=end, end__gt=start)
        .exclude(status=AppointmentStatus.CANCELLED)
        .order_by("start", "pk")
    )


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC. Arithmetic on a Europe/London datetime is wall-clock arithmetic
    (Python adds to the clock face), which is an hour out across a clock change; in UTC,
    adding 60 minutes always means 60 minutes."""
    return value.astimezone(UTC)


def clinic_datetime(day: date, wall: time) -> datetime:
    """`day` at wall-clock `wall` in clinic time, as a UTC instant."""
    return as_utc(timezone.make_aware(datetime.combine(day, wall)))


GRID_FIELDS = {
    "pk": "id",
    "start": "start",
    "end": "end",
    "status": "status",
    "version": "version",
    "practitioner_id": "practitioner_id",
    "location_id": "location_id",
    "given_name": "patient__given_name",
    "family_name": "patient__family_name",
    "service_name": "service__name",
    "colour": "service__colour",
}


@dataclasses.dataclass(frozen=True)
class GridAppointment:
    """What the diary grid shows of an appointment: plain values, no model instances (a busy
    day has hundreds; building models for them costs more than the query)."""

    pk: object
    start: datetime
    end: datetime
    status: str
    version: int
    practitioner_id: object
    location_id: object
    given_name: str
    family_name: str
    service_name: str
    colour: str

    @property
    def patient_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


def live_appointments_for_grid(*, user, start: datetime, end: datetime) -> QuerySet[Appointment]:
    """Live appointments overlapping [start, end); filter it, then read it with `grid_rows`."""
    return (
        Appointment.objects.visible_to(user)
        .filter(start__lt=end, end__gt=start)
        .exclude(status=AppointmentStatus.CANCELLED)
        .order_by("start", "pk")
    )


def cancelled_appointments_for_grid(*, user, start: datetime, end: datetime) -> QuerySet[Appointment]:
    """Cancelled appointments overlapping [start, end), listed beside the grid (their slots are
    free, so they have no block): filter it, then read it with `grid_rows`."""
    return (
        Appointment.objects.visible_to(user)
        .filter(start__lt=end, end__gt=start, status=AppointmentStatus.CANCELLED)
        .order_by("start", "pk")
    )


def grid_rows(queryset: QuerySet[Appointment]) -> list[GridAppointment]:
    names = list(GRID_FIELDS)
    return [
        GridAppointment(**dict(zip(names, row, strict=True))) for row in queryset.values_list(*GRID_FIELDS.values())
    ]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The instants a clinic day starts and ends (23 or 25 hours apart when clocks change)."""
    return clinic_datetime(day, time.min), clinic_datetime(day + timedelta(days=1), time.min)


def local_instant(day: date, wall: time) -> datetime | None:
    """`day` at wall-clock `wall` in clinic time (UTC), or None if the clocks skip that time."""
    aware = clinic_datetime(day, wall)
    if timezone.localtime(aware).replace(tzinfo=None) != datetime.combine(day, wall):
        return None
    return aware


def merge_hours(hours) -> list[tuple]:
    """One day's working hours, given as (location_id, start_time, end_time, anything) tuples, as
    stretches (location_id, start_time, end_time, the first one's anything): touching hours at
    one location are joined (a split shift 09:00-12:00, 12:00-17:00 is one stretch)."""
    merged: list[list] = []
    for location_id, opens, closes, payload in sorted(hours, key=lambda h: (str(h[0]), h[1])):
        if merged and merged[-1][0] == location_id and opens <= merged[-1][2]:
            merged[-1][2] = max(merged[-1][2], closes)
        else:
            merged.append([location_id, opens, closes, payload])
    return [tuple(item) for item in merged]


@dataclasses.dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    practitioner: Staff
    location: Location


def free_slots(
    *,
    user,
    service: Service,
    first_day: date,
    last_day: date,
    practitioner: Staff | None = None,
    location: Location | None = None,
    limit: int | None = None,
    not_before: datetime | None = None,
) -> list[Slot]:
    """Bookable starts for `service`, every rule applied: within working hours at the location,
    not in time off, not overlapping the practitioner's live appointments, not in the past.

    Starts lie on a 15-minute grid from each working-hours start. Four queries whatever the range.
    """
    not_before = not_before or timezone.now()
    duration = timedelta(minutes=service.duration_minutes)
    practitioners = practitioner_list(user=user)
    if practitioner is not None:
        practitioners = practitioners.filter(pk=practitioner.pk)
    by_id = {staff.pk: staff for staff in practitioners}
    hours = working_hours_list(user=user).filter(practitioner_id__in=by_id)
    if location is not None:
        hours = hours.filter(location=location)
    rows_by_day = defaultdict(list)
    for row in hours:
        rows_by_day[(row.weekday, row.practitioner_id)].append(row)
    hours_by_day = defaultdict(list)
    for (weekday, practitioner_id), rows in rows_by_day.items():
        hours = [(row.location_id, row.start_time, row.end_time, row.location) for row in rows]
        for _, opens, closes, place in merge_hours(hours):
            hours_by_day[weekday].append((practitioner_id, place, opens, closes))
    range_start, _ = day_bounds(first_day)
    _, range_end = day_bounds(last_day)
    busy = defaultdict(list)
    for appointment in (
        Appointment.objects.visible_to(user)
        .filter(practitioner_id__in=by_id, start__lt=range_end, end__gt=range_start)
        .exclude(status=AppointmentStatus.CANCELLED)
        .values_list("practitioner_id", "start", "end")
    ):
        busy[appointment[0]].append((appointment[1], appointment[2]))
    for absence in (
        time_off_between(user=user, start=range_start, end=range_end)
        .filter(practitioner_id__in=by_id)
        .values_list("practitioner_id", "start", "end")
    ):
        busy[absence[0]].append((absence[1], absence[2]))

    slots: list[Slot] = []
    day = first_day
    step = timedelta(minutes=SLOT_STEP_MINUTES)
    while day <= last_day:
        day_slots = []
        for practitioner_id, place, start_time, end_time in hours_by_day.get(day.weekday(), []):
            opens, closes = local_instant(day, start_time), local_instant(day, end_time)
            if opens is None or closes is None:
                continue
            start = opens
            while start + duration <= closes:
                end = start + duration
                if start >= not_before and not any(
                    b_start < end and b_end > start for b_start, b_end in busy[practitioner_id]
                ):
                    day_slots.append(Slot(start, end, by_id[practitioner_id], place))
                start += step
        day_slots.sort(key=lambda slot: (slot.start, slot.practitioner.given_name, slot.practitioner.family_name))
        slots.extend(day_slots)
        if limit is not None and len(slots) >= limit:
            return slots[:limit]
        day += timedelta(days=1)
    return slots


def availability(*, user, service: Service, day: date, practitioner: Staff | None = None, location=None) -> list[Slot]:
    """The free slots on one day (the `GET /api/v1/availability/` answer)."""
    return free_slots(
        user=user, service=service, first_day=day, last_day=day, practitioner=practitioner, location=location
    )


def next_free_slots(
    *,
    user,
    service: Service,
    from_day: date,
    practitioner: Staff | None = None,
    location: Location | None = None,
    limit: int = 10,
) -> list[Slot]:
    """The first free slots from `from_day` on, looking up to six weeks ahead."""
    return free_slots(
        user=user,
        service=service,
        first_day=from_day,
        last_day=from_day + timedelta(days=NEXT_FREE_SLOT_DAYS),
        practitioner=practitioner,
        location=location,
        limit=limit,
    )
