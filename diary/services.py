"""Writes for the diary: the one booking layer every entry point uses.

Pages, the API, admin actions, the demo seeder and recurring series all book, move, reassign,
change status, cancel and reinstate through these functions, so every rule is applied the same way:

- a practitioner is never in two overlapping live appointments, nor is a room (half-open
  [start, end): touching is fine). Each booking locks the practitioner's staff row (and the
  room's row) with SELECT ... FOR UPDATE before checking, so concurrent bookings for one
  practitioner queue up instead of both seeing a free slot; on PostgreSQL exclusion constraints
  back this up, and their violation becomes the same conflict error;
- a patient already booked at that time is a warning the caller may override
  (`allow_patient_overlap`);
- outside the practitioner's working hours at that location, or in their time off: refused,
  unless an admin overrides (`override_hours`; ignored for other roles);
- a change carries the `version` it was based on; a stale one is refused, never applied;
- statuses follow `diary.choices.STATUS_FLOW`; completed and DNA only once started. A cancelled
  appointment that has not started yet may be reinstated (`appointment_reinstate`): booked again
  only if a booking of the same slot would pass every rule above.

Lock order, to rule out deadlocks: appointment rows first (by start, id), then staff rows (by
id), then room rows (by id). Every create, reschedule, reassignment, status change, cancellation
and reinstatement writes an `AppointmentChange` in the same transaction, and hands it to the
listeners registered with `diary.change_listeners` (the integrations outbox), still inside it.

Rule violations raise `core.exceptions.DomainError` (`conflict=True` → HTTP 409 for clashes and
stale versions). Its `errors` name the field to act on: `allow_patient_overlap` and
`override_hours` when the caller may override.
"""

import dataclasses
import itertools
import uuid
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from decimal import Decimal
from functools import cache

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.choices import Role
from core.db import insert, insert_together
from core.exceptions import DomainError
from core.models import Location, Staff
from diary import change_listeners
from diary.choices import (
    MOVABLE_STATUSES,
    STATUS_FLOW,
    STATUSES_ONLY_AFTER_START,
    AppointmentStatus,
    ChangeKind,
)
from diary.models import (
    PRACTITIONER_OVERLAP_CONSTRAINT,
    ROOM_OVERLAP_CONSTRAINT,
    Appointment,
    AppointmentChange,
    AppointmentSeries,
    Room,
    Service,
    TimeOff,
    WorkingHours,
)
from diary.recurrence import Recurrence, rrule_until
from diary.selectors import as_utc, clinic_datetime, merge_hours
from patients.models import Patient
from privacy.choices import AuditAction
from privacy.services import audit_entry_record

STALE_VERSION = "This appointment was changed by someone else since you opened it. Reload it and try again."
_UNSET = object()
# Foreign keys the services have already loaded and checked (organisation, role) themselves;
# excluding them from full_clean() saves one existence query each.
_LOADED_FOREIGN_KEYS = [
    "organisation",
    "patient",
    "practitioner",
    "service",
    "location",
    "room",
    "series",
    "created_by",
    "updated_by",
]


def when(start: datetime, end: datetime) -> str:
    """'Mon 28 Mar 2027 09:00-10:00' (with an en dash) in clinic time."""
    local_start, local_end = timezone.localtime(start), timezone.localtime(end)
    if local_start.date() == local_end.date():
        return f"{day_label(local_start)} {local_start:%H:%M}\u2013{local_end:%H:%M}"
    return f"{day_label(local_start)} {local_start:%H:%M} \u2013 {day_label(local_end)} {local_end:%H:%M}"


def day_label(value) -> str:
    """'Mon 7 Jan 2030'."""
    return f"{value:%a} {value.day} {value:%b %Y}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _id(value) -> str | None:
    return str(value) if value is not None else None


# --- Locks and checks ---------------------------------------------------------------------


# The practitioner's and room's locks serialise the diary's changes to existing appointments.
# They are NO KEY UPDATE locks: a new booking's foreign-key check on the same staff or room row
# (a KEY SHARE lock) must not wait behind them, or a lock holder waiting at an exclusion
# constraint for that booking's row would deadlock with it.


def _lock_staff(ids: Iterable) -> None:
    locking = Staff.objects.select_for_update(no_key=True)
    list(locking.filter(pk__in=set(ids)).order_by("pk").values_list("pk", flat=True))


def _lock_rooms(ids: Iterable) -> None:
    ids = {pk for pk in ids if pk is not None}
    if ids:
        locking = Room.objects.select_for_update(no_key=True)
        list(locking.filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def _with_article(word: str) -> str:
    return f"{'An' if word[:1] in 'aeiou' else 'A'} {word}"


def _check_times(start: datetime, end: datetime, *, allow_equal: bool = False) -> None:
    if start is None or end is None or timezone.is_naive(start) or timezone.is_naive(end):
        raise DomainError("Give the start and end with their time zone.", errors={"start": ["Give a time zone."]})
    if end < start or (end == start and not allow_equal):
        raise DomainError("The end must be after the start.", errors={"end": ["The end must be after the start."]})


@dataclasses.dataclass(frozen=True)
class Problem:
    """Why a booking cannot go ahead as asked. `field` is where to act; `conflict` → 409."""

    field: str
    message: str
    conflict: bool

    def error(self) -> DomainError:
        return DomainError(self.message, errors={self.field: [self.message]}, conflict=self.conflict)


def _clash_problems(appointment: Appointment, *, allow_patient_overlap: bool) -> list[Problem]:
    """Live appointments overlapping this one for its practitioner, room or patient (one query)."""
    overlapping = Q(practitioner_id=appointment.practitioner_id)
    if appointment.room_id:
        overlapping |= Q(room_id=appointment.room_id)
    if not allow_patient_overlap:
        overlapping |= Q(patient_id=appointment.patient_id)
    others = (
        Appointment.objects.filter(overlapping, start__lt=appointment.end, end__gt=appointment.start)
        .exclude(status=AppointmentStatus.CANCELLED)
        .exclude(pk=appointment.pk)
        .order_by("start")
        .values(
            "practitioner_id",
            "room_id",
            "patient_id",
            "start",
            "end",
            "service__name",
            "practitioner__given_name",
            "practitioner__family_name",
        )
    )
    problems = []
    for other in others:
        period = when(other["start"], other["end"])
        if other["practitioner_id"] == appointment.practitioner_id:
            message = f"{appointment.practitioner} is already booked {period} ({other['service__name']})."
            problems.append(Problem("start", message, conflict=True))
        elif appointment.room_id and other["room_id"] == appointment.room_id:
            problems.append(Problem("room", f"{appointment.room} is already in use {period}.", conflict=True))
        elif other["patient_id"] == appointment.patient_id:
            colleague = f"{other['practitioner__given_name']} {other['practitioner__family_name']}".strip()
            message = (
                f"The patient already has an appointment {period} with {colleague}. "
                "Book anyway only if that is intended."
            )
            problems.append(Problem("allow_patient_overlap", message, conflict=True))
    return problems


def hours_problem(appointment: Appointment) -> str | None:
    """Why the appointment falls outside its practitioner's hours or in their time off, if it does.

    Reads plain values (this runs on every booking, so it is kept cheap).
    """
    start, end = timezone.localtime(appointment.start), timezone.localtime(appointment.end)
    practitioner = appointment.practitioner
    day_hours = list(
        WorkingHours.objects.filter(practitioner_id=appointment.practitioner_id, weekday=start.weekday())
        .order_by("start_time")
        .values_list("location_id", "start_time", "end_time")
    )
    inside = end.date() == start.date() and any(
        location_id == appointment.location_id and opens <= start.time() and end.time() <= closes
        for location_id, opens, closes, _ in merge_hours((*hours, None) for hours in day_hours)
    )
    if not inside:
        if not day_hours:
            return f"{practitioner} does not work on {start:%A}s."
        shown = ", ".join(f"{opens:%H:%M}\u2013{closes:%H:%M}" for _, opens, closes in day_hours)
        return f"{when(appointment.start, appointment.end)} is outside {practitioner}'s hours ({start:%A} {shown})."
    away = (
        TimeOff.objects.filter(
            practitioner_id=appointment.practitioner_id, start__lt=appointment.end, end__gt=appointment.start
        )
        .order_by("start")
        .values_list("reason", "start", "end")
        .first()
    )
    if away is not None:
        reason, away_start, away_end = away
        return f"{practitioner} is away then ({reason or 'time off'}, {when(away_start, away_end)})."
    return None


# The common case of every booking rule, as one statement (see `_plainly_bookable`). Written as
# SQL because it runs on every booking and move: built with the ORM (three Exists subqueries) it
# cost about six times as much to construct as to run (bench/booking.py). Each %s is adapted
# by `_db` below, so it reads the same on PostgreSQL and SQLite.
#
# One NOT EXISTS per column (practitioner, room, patient), each taking the slot's start and end.
# On PostgreSQL the overlap is a range test, which GiST indexes (the exclusion constraints', and
# the patient's, migration diary 0005) answer by looking only near the slot; compared by start
# and end, it would read every earlier appointment of the practitioner or patient (years of
# them) through the (…, start) btree indexes. The status is written out (a constant, not input)
# so the partial indexes apply.
_RANGES_OVERLAP = """tstzrange("start", "end", '[)') && tstzrange(%s, %s, '[)')"""
_TIMES_OVERLAP = """"end" > %s AND "start" < %s"""
_NOTHING_LIVE_OVERLAPS = """
    NOT EXISTS (
        SELECT 1 FROM diary_appointment
        WHERE {column} = %s AND {overlaps} AND status <> '{cancelled}' AND id <> %s
    )"""
_OVERLAP_COLUMNS = ("practitioner_id", "room_id", "patient_id")
_INSIDE_ONE_BLOCK_AND_NOT_AWAY = """
    AND EXISTS (
        SELECT 1 FROM diary_workinghours
        WHERE practitioner_id = %s AND weekday = %s AND location_id = %s
          AND start_time <= %s AND end_time >= %s
    )
    AND NOT EXISTS (
        SELECT 1 FROM diary_timeoff WHERE practitioner_id = %s AND "start" < %s AND "end" > %s
    )"""


@cache
def _nothing_live_overlaps(vendor: str) -> str:
    overlaps = _RANGES_OVERLAP if vendor == "postgresql" else _TIMES_OVERLAP
    checks = [
        _NOTHING_LIVE_OVERLAPS.format(column=column, overlaps=overlaps, cancelled=AppointmentStatus.CANCELLED.value)
        for column in _OVERLAP_COLUMNS
    ]
    return "\n    AND".join(checks)


def _db(value):
    """A Python value as this connection's driver takes it (UUIDs are text on SQLite; aware
    datetimes and times as the backend stores them)."""
    if isinstance(value, uuid.UUID):
        return value if connection.features.has_native_uuid_field else value.hex
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, time):
        return connection.ops.adapt_timefield_value(value)
    return value


def _plainly_bookable(appointment: Appointment, *, allow_patient_overlap: bool, check_hours: bool) -> bool:
    """The common case in one statement: nothing live overlaps the appointment (for its
    practitioner, room or, unless allowed, patient) and, if asked, it lies inside one
    working-hours block at its location and meets no time off.

    False means "look closer" (`_clash_problems`, `hours_problem` say what is wrong, and
    adjoining hours blocks only pass once merged), not "refused". It reads what was committed
    when it ran: a booking that commits in between is caught by the exclusion constraints when
    this one is saved (`_save`), or, where the practitioner's lock is held, cannot happen.
    """
    condition = _plainly_bookable_condition(
        appointment, allow_patient_overlap=allow_patient_overlap, check_hours=check_hours
    )
    if condition is None:
        return False
    sql, params = condition
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        (plainly,) = cursor.fetchone()
    return bool(plainly)


def _plainly_bookable_condition(
    appointment: Appointment, *, allow_patient_overlap: bool, check_hours: bool
) -> tuple[str, list] | None:
    """`_plainly_bookable` as an SQL condition and its parameters, for a statement of its own or
    to guard the booking's insert (`_book`). None: it cannot hold plainly (the
    appointment runs past midnight, so no one day's hours block holds it)."""
    # NULL matches nothing: no room, or the patient's own overlap allowed.
    patient_id = None if allow_patient_overlap else appointment.patient_id
    sql = _nothing_live_overlaps(connection.vendor)
    params = []
    for value in (appointment.practitioner_id, appointment.room_id, patient_id):
        params += [value, appointment.start, appointment.end, appointment.pk]
    if check_hours:
        start, end = timezone.localtime(appointment.start), timezone.localtime(appointment.end)
        if end.date() != start.date():
            return None
        sql += _INSIDE_ONE_BLOCK_AND_NOT_AWAY
        params += [
            appointment.practitioner_id,
            start.weekday(),
            appointment.location_id,
            start.time(),
            end.time(),
            appointment.practitioner_id,
            appointment.end,
            appointment.start,
        ]
    return sql, [_db(value) for value in params]


def _hours_apply(actor: Staff, *, override_hours: bool) -> bool:
    """Working hours and time off bind everyone but an admin who overrides them."""
    return not (override_hours and actor.has_role(Role.ADMIN))


def _rule_problems(
    appointment: Appointment,
    *,
    actor: Staff,
    allow_patient_overlap: bool,
    override_hours: bool,
    check_hours: bool,
    plainly_failed: bool = False,
) -> list[Problem]:
    """What stops the appointment being booked, clashes first. `plainly_failed`: the caller has
    just run the one-statement check (`_plainly_bookable`) and it did not pass; it is not run
    again."""
    check_hours = check_hours and _hours_apply(actor, override_hours=override_hours)
    if not plainly_failed and _plainly_bookable(
        appointment, allow_patient_overlap=allow_patient_overlap, check_hours=check_hours
    ):
        return []
    problems = _clash_problems(appointment, allow_patient_overlap=allow_patient_overlap)
    reason = hours_problem(appointment) if check_hours else None
    if reason is not None:
        field = "override_hours" if actor.has_role(Role.ADMIN) else "start"
        suffix = " An admin can override this." if field == "start" else " Override only if intended."
        problems.append(Problem(field, reason + suffix, conflict=False))
    # Clashes first (they cannot be overridden), then refusals, then the overridable warning.
    order = {"start": 0, "room": 1, "override_hours": 2, "allow_patient_overlap": 3}
    return sorted(problems, key=lambda p: (not (p.conflict and p.field in ("start", "room")), order[p.field]))


def _raise_first(problems: list[Problem]) -> None:
    if problems:
        raise problems[0].error()


def _check_bookable(
    appointment: Appointment,
    *,
    actor: Staff,
    allow_patient_overlap: bool,
    override_hours: bool,
    plainly_failed: bool = False,
) -> None:
    """The booking rule set, for a slot about to become live (a new booking, a reinstatement):
    no clash for the practitioner or room, the patient overlap unless allowed, working hours and
    time off unless an admin overrides. A slot another transaction takes meanwhile fails the
    save at the exclusion constraints (`_save`)."""
    _raise_first(
        _rule_problems(
            appointment,
            actor=actor,
            allow_patient_overlap=allow_patient_overlap,
            override_hours=override_hours,
            check_hours=True,
            plainly_failed=plainly_failed,
        )
    )


def _check_service_offered(service: Service) -> None:
    if not service.is_active:
        raise DomainError("This service is no longer offered.", errors={"service": ["Choose an active service."]})


def _constraint_name(exc: IntegrityError) -> str | None:
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    if getattr(cause, "sqlstate", None) == "23P01" and diag is not None:
        return diag.constraint_name
    return None


SAVED_AT_THE_SAME_MOMENT = (
    "Another booking for this time was saved at the same moment, so this one was not. "
    "Look at the diary again and choose a time."
)


def _save(
    appointment: Appointment, *, change: AppointmentChange | None = None, only_if: tuple[str, list] | None = None
) -> bool:
    """Save; a PostgreSQL exclusion violation becomes the conflict error.

    So does a deadlock: two transactions saving rows that overlap each other's can each wait at
    the exclusion constraint for the other, and PostgreSQL then ends one of them. The other
    saves its row, so the one ended has lost a race for the slot, as with a violation.

    A new appointment is inserted with its `change` record (one statement on PostgreSQL), and
    only if the SQL condition `only_if` holds: False if it did not (nothing was written).

    No savepoint of its own: every caller is inside a service's atomic block, which rolls back
    as the DomainError leaves it.
    """
    try:
        if appointment._state.adding:
            return insert_together([appointment] if change is None else [appointment, change], only_if=only_if)
        appointment.save()
        return True
    except IntegrityError as exc:
        name = _constraint_name(exc)
        period = when(appointment.start, appointment.end)
        if name == PRACTITIONER_OVERLAP_CONSTRAINT:
            message = f"{appointment.practitioner} is already booked at that time ({period})."
            raise DomainError(message, errors={"start": [message]}, conflict=True) from exc
        if name == ROOM_OVERLAP_CONSTRAINT:
            message = f"{appointment.room} is already in use at that time ({period})."
            raise DomainError(message, errors={"room": [message]}, conflict=True) from exc
        raise
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == "40P01":  # deadlock detected
            message = SAVED_AT_THE_SAME_MOMENT
            raise DomainError(message, errors={"start": [message]}, conflict=True) from exc
        raise


def _snapshot(appointment: Appointment) -> dict:
    return {
        "practitioner": _id(appointment.practitioner_id),
        "start": _iso(appointment.start),
        "end": _iso(appointment.end),
        "location": _id(appointment.location_id),
        "room": _id(appointment.room_id),
        "service": _id(appointment.service_id),
        "status": appointment.status,
    }


def _record(appointment: Appointment, *, kind: str, changes: dict, by: Staff | None) -> AppointmentChange:
    """The change record, in the caller's transaction: it commits or rolls back with the change."""
    change = _change_record(appointment, kind=kind, changes=changes, by=by)
    insert(change)
    _announce(change)
    return change


def _change_record(appointment: Appointment, *, kind: str, changes: dict, by: Staff | None) -> AppointmentChange:
    """A change record, checked, not yet saved."""
    change = AppointmentChange(
        organisation_id=appointment.organisation_id,
        appointment=appointment,
        kind=kind,
        changes=changes,
        version=appointment.version,
        by=by,
    )
    change.full_clean(exclude=["organisation", "appointment", "by"], validate_unique=False, validate_constraints=False)
    return change


def _announce(change: AppointmentChange) -> None:
    """After a change record is saved: the listeners' writes, then the audit entry."""
    change_listeners.notify(change)
    # Last: the audit chain head stays locked until commit, so it must be the last lock taken.
    audit_entry_record(
        action=AuditAction.CREATE if change.kind == ChangeKind.CREATED else AuditAction.CHANGE,
        obj=change.appointment,
        actor=change.by,
        details={"kind": change.kind, "fields": sorted(change.changes), "version": change.version},
    )


def _locked(appointment: Appointment, version: int | None) -> Appointment:
    locked = (
        Appointment.objects.select_related("patient", "practitioner", "service", "location", "room")
        .select_for_update(of=("self",))
        .filter(pk=appointment.pk)
        .first()
    )
    if locked is None:
        raise DomainError("This appointment no longer exists.", conflict=True)
    if version is not None and locked.version != version:
        raise DomainError(STALE_VERSION, errors={"version": [STALE_VERSION]}, conflict=True)
    return locked


# --- Booking ------------------------------------------------------------------------------


def _new_appointment(
    *,
    actor: Staff,
    patient: Patient,
    practitioner: Staff,
    service: Service,
    location: Location,
    start: datetime,
    end: datetime | None,
    room: Room | None,
    notes: str,
    series: AppointmentSeries | None = None,
) -> Appointment:
    _check_times(start, end if end is not None else start, allow_equal=end is None)
    start = as_utc(start)
    end = as_utc(end) if end is not None else start + timedelta(minutes=service.duration_minutes)
    _check_times(start, end)
    _check_service_offered(service)
    now = timezone.now()
    appointment = Appointment(
        organisation_id=actor.organisation_id,
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        room=room,
        start=start,
        end=end,
        notes=notes.strip(),
        series=series,
        created_by=actor,
        updated_by=actor,
        created_at=now,
        updated_at=now,
    )
    # The database holds the constraints (and a new UUID needs no uniqueness query).
    appointment.full_clean(exclude=_LOADED_FOREIGN_KEYS, validate_unique=False, validate_constraints=False)
    return appointment


def _book(appointment: Appointment, *, actor, allow_patient_overlap, override_hours) -> Appointment:
    """Save a new appointment under the booking rules, with its change record, listeners and
    audit entry. A single booking takes no lock; a series holds its practitioner's and room's."""
    change = _change_record(
        appointment,
        kind=ChangeKind.CREATED,
        changes={
            **_snapshot(appointment),
            "patient": _id(appointment.patient_id),
            "series": _id(appointment.series_id),
        },
        by=actor,
    )
    # The common case is one statement: the plain rule check guards the insert of the
    # appointment and its change record. Where it does not plainly pass, the whole rule set
    # says why (or finds that it passes, e.g. across adjoining hours blocks) before saving.
    plainly = _plainly_bookable_condition(
        appointment,
        allow_patient_overlap=allow_patient_overlap,
        check_hours=_hours_apply(actor, override_hours=override_hours),
    )
    if plainly is None or not _save(appointment, change=change, only_if=plainly):
        _check_bookable(
            appointment,
            actor=actor,
            allow_patient_overlap=allow_patient_overlap,
            override_hours=override_hours,
            plainly_failed=plainly is not None,
        )
        _save(appointment, change=change)
    _announce(change)
    return appointment


@transaction.atomic
def appointment_book(
    *,
    actor: Staff,
    patient: Patient,
    practitioner: Staff,
    service: Service,
    location: Location,
    start: datetime,
    end: datetime | None = None,
    room: Room | None = None,
    notes: str = "",
    allow_patient_overlap: bool = False,
    override_hours: bool = False,
) -> Appointment:
    """Book a patient in. `end` defaults to `start` plus the service's duration.

    Protects: no practitioner or room double-booking; working hours and time off (admin may
    override); patient overlap only when allowed. Writes a `created` change record.
    """
    appointment = _new_appointment(
        actor=actor,
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        start=start,
        end=end,
        room=room,
        notes=notes,
    )
    # No practitioner or room lock: a new booking changes no existing row, and two racing for
    # one slot meet at the exclusion constraints (PostgreSQL; SQLite runs one write transaction
    # at a time), whose error `_save` turns into the same conflict. The locks would cost a
    # statement per booking and change only which message the loser of a race sees.
    return _book(appointment, actor=actor, allow_patient_overlap=allow_patient_overlap, override_hours=override_hours)


def _apply_move(
    appointment: Appointment,
    *,
    start,
    end,
    practitioner,
    location,
    room,
    service,
    notes,
) -> None:
    """Set the new values on `appointment` (unlocked arithmetic: end follows start or service)."""
    if start is not None:
        _check_times(start, end or start, allow_equal=end is None)
        start = as_utc(start)
    if end is not None:
        end = as_utc(end)
    appointment.start, appointment.end = as_utc(appointment.start), as_utc(appointment.end)
    old_duration = appointment.end - appointment.start
    if service is not None and service.pk != appointment.service_id:
        _check_service_offered(service)
        appointment.service = service
        if end is None:
            old_duration = timedelta(minutes=service.duration_minutes)
    if start is not None:
        appointment.start = start
    if end is not None:
        appointment.end = end
    elif start is not None or service is not None:
        appointment.end = appointment.start + old_duration
    if practitioner is not None:
        appointment.practitioner = practitioner
    if location is not None and location.pk != appointment.location_id:
        appointment.location = location
        if room is _UNSET:
            room = None  # the old room is at the old location
    if room is not _UNSET:
        appointment.room = room
    if notes is not None:
        appointment.notes = notes.strip()


def _reschedule_locked(
    locked: Appointment,
    *,
    actor: Staff,
    start=None,
    end=None,
    practitioner=None,
    location=None,
    room=_UNSET,
    service=None,
    notes=None,
    allow_patient_overlap: bool = False,
    override_hours: bool = False,
) -> Appointment:
    if locked.status not in MOVABLE_STATUSES:
        raise DomainError(
            f"{_with_article(locked.get_status_display().lower())} appointment cannot be changed.",
            errors={"status": ["Only booked or arrived appointments can be changed."]},
        )
    before = _snapshot(locked)
    old_notes = locked.notes
    _apply_move(
        locked,
        start=start,
        end=end,
        practitioner=practitioner,
        location=location,
        room=room,
        service=service,
        notes=notes,
    )
    _check_times(locked.start, locked.end)
    after = _snapshot(locked)
    changed = {field: {"from": before[field], "to": after[field]} for field in after if before[field] != after[field]}
    notes_changed = locked.notes != old_notes
    if not changed and not notes_changed:
        return locked
    locked.full_clean(exclude=_LOADED_FOREIGN_KEYS, validate_unique=False, validate_constraints=False)
    moved = bool({"practitioner", "start", "end", "location"} & changed.keys())
    if moved or "room" in changed:
        _lock_staff([locked.practitioner_id])
        _lock_rooms([locked.room_id])
    if changed:
        _raise_first(
            _rule_problems(
                locked,
                actor=actor,
                allow_patient_overlap=allow_patient_overlap,
                override_hours=override_hours,
                check_hours=moved,
            )
        )
    locked.version += 1
    locked.updated_by = actor
    locked.updated_at = timezone.now()
    _save(locked)
    if "practitioner" in changed:
        kind = ChangeKind.REASSIGNED
    elif "start" in changed or "end" in changed:
        kind = ChangeKind.RESCHEDULED
    else:
        kind = ChangeKind.UPDATED
    if notes_changed:
        changed["notes"] = {"changed": True}  # never the text itself
    changed["previous"] = {key: before[key] for key in ("practitioner", "start", "end")}
    _record(locked, kind=kind, changes=changed, by=actor)
    return locked


@transaction.atomic
def appointment_reschedule(
    *,
    actor: Staff,
    appointment: Appointment,
    version: int,
    start: datetime | None = None,
    end: datetime | None = None,
    practitioner: Staff | None = None,
    location: Location | None = None,
    room=_UNSET,
    service: Service | None = None,
    notes: str | None = None,
    allow_patient_overlap: bool = False,
    override_hours: bool = False,
) -> Appointment:
    """Move an appointment in time, to another practitioner, location or room, or change its
    service or notes: one function, so a drag in the diary, a PATCH and a form obey one rule set.

    Arguments left out keep their value; a new start keeps the duration unless `end` is given (a
    new service without `end` takes the service's duration). `room=None` clears the room. The
    change is refused if `version` is not the current one. Writes a change record.
    """
    locked = _locked(appointment, version)
    return _reschedule_locked(
        locked,
        actor=actor,
        start=start,
        end=end,
        practitioner=practitioner,
        location=location,
        room=room,
        service=service,
        notes=notes,
        allow_patient_overlap=allow_patient_overlap,
        override_hours=override_hours,
    )


def _set_status_locked(
    locked: Appointment, *, actor: Staff, status: str, reason: str = "", after_arrival: bool = False
) -> Appointment:
    """Move `locked` along `STATUS_FLOW`. Cancelling an arrived appointment is a person's
    decision, confirmed with `after_arrival` (see `appointment_cancel`)."""
    if status not in AppointmentStatus.values:
        raise DomainError(f"Unknown status {status!r}.", errors={"status": ["Choose a status."]})
    if status == locked.status:
        return locked
    if status == AppointmentStatus.CANCELLED and locked.status == AppointmentStatus.ARRIVED and not after_arrival:
        message = "The patient has arrived, so the appointment is cancelled only when staff confirm it."
        raise DomainError(message, errors={"status": [message]})
    if status not in STATUS_FLOW[locked.status]:
        target = AppointmentStatus(status).label.lower()
        message = f"{_with_article(locked.get_status_display().lower())} appointment cannot become {target}."
        raise DomainError(message, errors={"status": [message]})
    if status in STATUSES_ONLY_AFTER_START and timezone.now() < locked.start:
        message = "An appointment can be marked completed or did-not-attend only once it has started."
        raise DomainError(message, errors={"status": [message]})
    before = _snapshot(locked)
    locked.status = status
    if status == AppointmentStatus.CANCELLED:
        locked.cancellation_reason = reason.strip()[:200]
    locked.version += 1
    locked.updated_by = actor
    locked.updated_at = timezone.now()
    locked.full_clean(exclude=_LOADED_FOREIGN_KEYS, validate_unique=False, validate_constraints=False)
    locked.save()
    kind = ChangeKind.CANCELLED if status == AppointmentStatus.CANCELLED else ChangeKind.STATUS_CHANGED
    changes = {
        "status": {"from": before["status"], "to": status},
        "previous": {key: before[key] for key in ("practitioner", "start", "end")},
    }
    _record(locked, kind=kind, changes=changes, by=actor)
    return locked


@transaction.atomic
def appointment_cancel(
    *,
    actor: Staff,
    appointment: Appointment,
    reason: str = "",
    version: int | None = None,
    after_arrival: bool = False,
) -> Appointment:
    """Cancel a booked appointment, or an arrived one with `after_arrival`; its slot is free at
    once. Writes a `cancelled` record, so the outbox and emails follow as for any cancellation.

    An arrived patient is already here, so cancelling them is a person's decision: the diary's
    cancel action, shown the arrived appointment, passes `after_arrival=True` with the `version`
    it showed. Callers acting on their own (admin bulk actions, a meeting deleted in Zoom) leave it
    off, are refused, and the appointment stays arrived.
    """
    return _set_status_locked(
        _locked(appointment, version),
        actor=actor,
        status=AppointmentStatus.CANCELLED,
        reason=reason,
        after_arrival=after_arrival,
    )


@transaction.atomic
def appointment_set_status(
    *,
    actor: Staff,
    appointment: Appointment,
    status: str,
    version: int | None = None,
    reason: str = "",
    after_arrival: bool = False,
) -> Appointment:
    """Arrived, completed, did not attend, booked again (undoing a mistaken arrival) or
    cancelled, along `STATUS_FLOW` only. Cancelling an arrived appointment needs `after_arrival`,
    exactly as in `appointment_cancel`."""
    return _set_status_locked(
        _locked(appointment, version), actor=actor, status=status, reason=reason, after_arrival=after_arrival
    )


@transaction.atomic
def appointment_reinstate(
    *,
    actor: Staff,
    appointment: Appointment,
    version: int | None = None,
    allow_patient_overlap: bool = False,
    override_hours: bool = False,
) -> Appointment:
    """Book a cancelled appointment again, as it was (same patient, practitioner, time, place).

    Only a cancelled appointment that has not started yet. Its slot was given up when it was
    cancelled, so it comes back only under the booking rules, exactly as a new booking of that
    slot would (`_check_bookable`, under the practitioner's and room's locks): a clash with the practitioner or the
    room is refused (409, naming it); the patient's own overlap only with
    `allow_patient_overlap`; outside hours or in time off only with an admin's `override_hours`.
    A stale `version` is refused (409). The cancellation reason is cleared and a `reinstated`
    change record written, so the outbox and patient email follow as for any change.

    `STATUS_FLOW` keeps cancelled final for status changes: this is the only way back.
    """
    locked = _locked(appointment, version)
    if locked.status != AppointmentStatus.CANCELLED:
        message = f"Only a cancelled appointment can be reinstated; this one is {locked.get_status_display().lower()}."
        raise DomainError(message, errors={"status": [message]})
    if timezone.now() >= locked.start:
        message = "This appointment's time has already come; book the patient a new appointment instead."
        raise DomainError(message, errors={"start": [message]})
    _check_service_offered(locked.service)
    _lock_staff([locked.practitioner_id])
    _lock_rooms([locked.room_id])
    before = _snapshot(locked)
    locked.status = AppointmentStatus.BOOKED
    locked.cancellation_reason = ""
    # Checked as a booking would be: the practitioner must still be an active practitioner here.
    locked.full_clean(exclude=_LOADED_FOREIGN_KEYS, validate_unique=False, validate_constraints=False)
    _check_bookable(locked, actor=actor, allow_patient_overlap=allow_patient_overlap, override_hours=override_hours)
    locked.version += 1
    locked.updated_by = actor
    locked.updated_at = timezone.now()
    # The exclusion constraints ignore cancelled rows, so making this row live again is when a
    # booking that raced past the check above is caught: `_save` turns that into the conflict.
    _save(locked)
    changes = {
        "status": {"from": before["status"], "to": locked.status},
        "previous": {key: before[key] for key in ("practitioner", "start", "end")},
    }
    _record(locked, kind=ChangeKind.REINSTATED, changes=changes, by=actor)
    return locked


# --- Recurring series ---------------------------------------------------------------------


@dataclasses.dataclass
class Occurrence:
    start: datetime
    end: datetime
    problem: str | None = None
    conflict: bool = False

    @property
    def label(self) -> str:
        return when(self.start, self.end)


def _plan(
    *,
    actor,
    patient,
    practitioner,
    service,
    location,
    first_start,
    recurrence,
    room,
    notes,
    allow_patient_overlap,
    override_hours,
    duration=None,
) -> list[Occurrence]:
    duration = duration or timedelta(minutes=service.duration_minutes)
    occurrences = []
    for start in recurrence.starts(first_start):
        candidate = _new_appointment(
            actor=actor,
            patient=patient,
            practitioner=practitioner,
            service=service,
            location=location,
            start=start,
            end=start + duration,
            room=room,
            notes=notes,
        )
        problems = _rule_problems(
            candidate,
            actor=actor,
            allow_patient_overlap=allow_patient_overlap,
            override_hours=override_hours,
            check_hours=True,
        )
        occurrence = Occurrence(start=candidate.start, end=candidate.end)
        if problems:
            occurrence.problem = problems[0].message
            occurrence.conflict = problems[0].conflict
        occurrences.append(occurrence)
    return occurrences


def series_plan(
    *,
    actor: Staff,
    patient: Patient,
    practitioner: Staff,
    service: Service,
    location: Location,
    first_start: datetime,
    recurrence: Recurrence,
    room: Room | None = None,
    notes: str = "",
    end: datetime | None = None,
    allow_patient_overlap: bool = False,
    override_hours: bool = False,
) -> list[Occurrence]:
    """Every occurrence of a recurring booking, each with the problem that stops it (if any).

    Writes nothing: the page shows this list and asks whether to skip the clashing dates.
    """
    return _plan(
        actor=actor,
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        first_start=first_start,
        recurrence=recurrence,
        room=room,
        notes=notes,
        allow_patient_overlap=allow_patient_overlap,
        override_hours=override_hours,
        duration=(as_utc(end) - as_utc(first_start)) if end else None,
    )


@transaction.atomic
def series_book(
    *,
    actor: Staff,
    patient: Patient,
    practitioner: Staff,
    service: Service,
    location: Location,
    first_start: datetime,
    recurrence: Recurrence,
    room: Room | None = None,
    notes: str = "",
    end: datetime | None = None,
    skip: Iterable[datetime] = (),
    allow_patient_overlap: bool = False,
    override_hours: bool = False,
) -> tuple[AppointmentSeries, list[Appointment], list[Occurrence]]:
    """Book a recurring appointment: all of it, or none.

    The whole series is checked first, under the practitioner's lock. If any occurrence has a
    problem and its start is not in `skip` (the dates the user agreed to leave out), nothing is
    created and the error lists each problem. Returns the series, the appointments and the
    skipped occurrences.
    """
    _lock_staff([practitioner.pk])
    _lock_rooms([room.pk if room else None])
    plan = series_plan(
        actor=actor,
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        first_start=first_start,
        recurrence=recurrence,
        room=room,
        notes=notes,
        end=end,
        allow_patient_overlap=allow_patient_overlap,
        override_hours=override_hours,
    )
    accepted = set(skip)
    unaccepted = [occurrence for occurrence in plan if occurrence.problem and occurrence.start not in accepted]
    if unaccepted:
        lines = [f"{occurrence.label}: {occurrence.problem}" for occurrence in unaccepted]
        raise DomainError(
            f"{len(unaccepted)} of the {len(plan)} dates cannot be booked; nothing was booked.",
            errors={"occurrences": lines},
            conflict=any(occurrence.conflict for occurrence in unaccepted),
        )
    free = [occurrence for occurrence in plan if not occurrence.problem]
    if not free:
        raise DomainError("None of the dates can be booked.", errors={"occurrences": ["Every date has a problem."]})
    series = AppointmentSeries(
        organisation_id=actor.organisation_id, rrule=recurrence.rrule_text(), dtstart=first_start, created_by=actor
    )
    series.full_clean(exclude=["created_by"])
    series.save()
    booked = []
    for occurrence in free:
        appointment = _new_appointment(
            actor=actor,
            patient=patient,
            practitioner=practitioner,
            service=service,
            location=location,
            start=occurrence.start,
            end=occurrence.end,
            room=room,
            notes=notes,
            series=series,
        )
        booked.append(
            _book(appointment, actor=actor, allow_patient_overlap=allow_patient_overlap, override_hours=override_hours)
        )
    skipped = [occurrence for occurrence in plan if occurrence.problem]
    return series, booked, skipped


def _following(appointment: Appointment) -> list[Appointment]:
    """This occurrence and the later live ones of its series, locked, in time order."""
    if appointment.series_id is None:
        raise DomainError("This appointment is not part of a series.")
    return list(
        Appointment.objects.select_for_update()
        .filter(series_id=appointment.series_id, start__gte=appointment.start)
        .exclude(status=AppointmentStatus.CANCELLED)
        .order_by("start", "pk")
    )


@transaction.atomic
def series_cancel_from(
    *, actor: Staff, appointment: Appointment, reason: str = "", version: int | None = None
) -> list[Appointment]:
    """Cancel this occurrence and every later booked one; the series ends before it.

    Later occurrences already arrived or completed are left as they are. This one must be booked:
    an arrived patient's appointment is cancelled on its own (`appointment_cancel`).
    """
    following = _following(appointment)
    current = next((item for item in following if item.pk == appointment.pk), None)
    if current is None or (version is not None and current.version != version):
        raise DomainError(STALE_VERSION, errors={"version": [STALE_VERSION]}, conflict=True)
    if current.status == AppointmentStatus.ARRIVED:
        message = "The patient has arrived: cancel this appointment on its own, then the rest from the next one."
        raise DomainError(message, errors={"status": [message]})
    cancelled = [
        _set_status_locked(item, actor=actor, status=AppointmentStatus.CANCELLED, reason=reason)
        for item in following
        if item.status == AppointmentStatus.BOOKED
    ]
    series = AppointmentSeries.objects.select_for_update().get(pk=appointment.series_id)
    series.rrule = rrule_until(series.rrule, current.start)
    series.save(update_fields=["rrule"])
    return cancelled


@transaction.atomic
def series_reschedule_from(
    *,
    actor: Staff,
    appointment: Appointment,
    version: int,
    start: datetime | None = None,
    practitioner: Staff | None = None,
    location: Location | None = None,
    room=_UNSET,
    allow_patient_overlap: bool = False,
    override_hours: bool = False,
) -> list[Appointment]:
    """Move this occurrence and every later one alike: the same shift in days and the same new
    wall-clock time (so DST does not drift them), and/or another practitioner, location, room.

    All of them are checked first; if any cannot move, none does and the error lists them.
    """
    following = [item for item in _following(appointment) if item.status in MOVABLE_STATUSES]
    current = next((item for item in following if item.pk == appointment.pk), None)
    if current is None or current.version != version:
        raise DomainError(STALE_VERSION, errors={"version": [STALE_VERSION]}, conflict=True)
    shift_days, new_time = 0, None
    if start is not None:
        old_local, new_local = timezone.localtime(current.start), timezone.localtime(start)
        shift_days = (new_local.date() - old_local.date()).days
        new_time = new_local.time()
    moved, problems = [], []
    for item in following:
        item_start = None
        if new_time is not None:
            local = timezone.localtime(item.start)
            item_start = clinic_datetime(local.date() + timedelta(days=shift_days), new_time)
        try:
            with transaction.atomic():
                moved.append(
                    _reschedule_locked(
                        item,
                        actor=actor,
                        start=item_start,
                        practitioner=practitioner,
                        location=location,
                        room=room,
                        allow_patient_overlap=allow_patient_overlap,
                        override_hours=override_hours,
                    )
                )
        except DomainError as error:
            problems.append((item, error))
    if problems:
        lines = [f"{when(item.start, item.end)}: {error.message}" for item, error in problems]
        raise DomainError(
            f"{len(problems)} of the {len(following)} appointments cannot move; none was changed.",
            errors={"occurrences": lines},
            conflict=any(error.conflict for _, error in problems),
        )
    return moved


# --- Setup: services, rooms, working hours, time off ----------------------------------------


@transaction.atomic
def service_create(
    *,
    organisation,
    name: str,
    duration_minutes: int,
    price: Decimal = Decimal("0"),
    colour: str = "#3A7BD5",
    is_telehealth: bool = False,
    is_active: bool = True,
) -> Service:
    """Add a bookable service (unique name in the organisation)."""
    service = Service(
        organisation=organisation,
        name=name.strip(),
        duration_minutes=duration_minutes,
        price=price,
        colour=colour.upper(),
        is_telehealth=is_telehealth,
        is_active=is_active,
    )
    service.full_clean()
    service.save()
    return service


@transaction.atomic
def room_create(*, location: Location, name: str) -> Room:
    """Add a room at a location (unique name there)."""
    room = Room(organisation_id=location.organisation_id, location=location, name=name.strip())
    room.full_clean()
    room.save()
    return room


@transaction.atomic
def working_hours_set(*, practitioner: Staff, hours: Iterable[dict]) -> list[WorkingHours]:
    """Replace a practitioner's weekly hours with `hours` (dicts: weekday, start_time,
    end_time, location). Protects: no overlap within a weekday (all rows checked together)."""
    _lock_staff([practitioner.pk])
    WorkingHours.objects.filter(practitioner=practitioner).delete()
    rows = [
        WorkingHours(organisation_id=practitioner.organisation_id, practitioner=practitioner, **values)
        for values in hours
    ]
    for row in rows:
        row.full_clean(exclude=["practitioner"], validate_constraints=False)
    ordered = sorted(rows, key=lambda r: (r.weekday, r.start_time))
    for previous, row in itertools.pairwise(ordered):
        if previous.weekday == row.weekday and row.start_time < previous.end_time:
            message = f"{row.get_weekday_display()}: {previous} overlaps {row}."
            raise DomainError(message, errors={"hours": [message]})
    WorkingHours.objects.bulk_create(ordered)
    return ordered


@transaction.atomic
def time_off_create(*, practitioner: Staff, start: datetime, end: datetime, reason: str = "") -> TimeOff:
    """Mark a practitioner away from `start` to `end` (not bookable then, unless an admin overrides).

    Existing appointments in the range are left alone: the day view shows them over the time off.
    """
    absence = TimeOff(
        organisation_id=practitioner.organisation_id, practitioner=practitioner, start=start, end=end, reason=reason
    )
    absence.full_clean(exclude=["practitioner"])
    absence.save()
    return absence
