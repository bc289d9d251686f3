"""The diary: what a clinic offers (services, rooms), when practitioners work, and appointments.

Every row belongs to one organisation (`TenantModel`); reads go through `visible_to(user)`.
Appointments are written only by `diary.services` (pages, API, admin actions, the demo seeder
and recurring series all call it). Their start and end are aware datetimes stored in UTC and
shown in Europe/London.

Invariants held by the database as well as the services:
- `end > start` for appointments, time off and working hours (check constraints);
- a practitioner is never in two overlapping live (not cancelled) appointments, nor is a room;
  working hours of a practitioner never overlap on a weekday. On PostgreSQL these are exclusion
  constraints (btree_gist, half-open ranges, so touching is fine) added by migration 0002, which
  does nothing on SQLite: there the services' checks, under the practitioner lock, hold them.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from core.choices import Role
from core.models import ACTIVE_PRACTITIONER, Location, TenantModel, organisation_indexed_elsewhere
from diary.choices import AppointmentStatus, ChangeKind, Weekday

COLOUR_PATTERN = r"^#[0-9A-Fa-f]{6}$"
validate_colour = RegexValidator(COLOUR_PATTERN, "Give the colour as # and six hex digits, for example #3A7BD5.")

# Names of the PostgreSQL-only exclusion constraints (migration 0002); the services map their
# violations (SQLSTATE 23P01) to the same conflict error their own checks raise.
PRACTITIONER_OVERLAP_CONSTRAINT = "appointment_practitioner_no_overlap"
ROOM_OVERLAP_CONSTRAINT = "appointment_room_no_overlap"
WORKING_HOURS_OVERLAP_CONSTRAINT = "working_hours_no_overlap"


def _same_organisation(instance, field: str, errors: dict) -> None:
    related = getattr(instance, field, None)
    if related is not None and instance.organisation_id and related.organisation_id != instance.organisation_id:
        errors[field] = "Choose one of this organisation's own."


def _check_practitioner(instance, errors: dict) -> None:
    practitioner = instance.practitioner if instance.practitioner_id else None
    if practitioner is None:
        return
    if practitioner.organisation_id != instance.organisation_id or not practitioner.has_role(Role.PRACTITIONER):
        errors["practitioner"] = "Choose an active practitioner of this organisation."


class Service(TenantModel):
    """Something the clinic books: how long it takes, what it costs, its colour in the diary."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    duration_minutes = models.PositiveSmallIntegerField(
        "duration (minutes)", validators=[MinValueValidator(5), MaxValueValidator(720)]
    )
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)])
    colour = models.CharField(max_length=7, default="#3A7BD5", validators=[validate_colour])
    is_telehealth = models.BooleanField("telehealth", default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="service_name_unique_in_organisation"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5, duration_minutes__lte=720),
                name="service_duration_5_to_720_minutes",
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="service_price_not_negative"),
            models.CheckConstraint(condition=models.Q(colour__regex=COLOUR_PATTERN), name="service_colour_is_hex"),
        ]

    def __str__(self) -> str:
        return self.name


class Room(TenantModel):
    """A room at a location. Appointments may use one; a room is never double-booked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="room_name_unique_at_location"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})" if self.location_id else self.name

    def clean(self):
        super().clean()
        errors: dict = {}
        _same_organisation(self, "location", errors)
        if errors:
            raise ValidationError(errors)


class WorkingHours(TenantModel):
    """When a practitioner works at a location on a weekday (wall-clock, Europe/London).

    Invariant: a practitioner's hours on one weekday never overlap (`clean`, and an exclusion
    constraint on PostgreSQL); touching ranges (a split shift) are fine.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="working_hours",
        limit_choices_to=ACTIVE_PRACTITIONER,
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        verbose_name_plural = "working hours"
        ordering = ["practitioner", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")), name="working_hours_end_after_start"
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="working_hours_weekday_0_to_6"),
        ]
        indexes = [models.Index(fields=["practitioner", "weekday"], name="working_hours_practitioner_idx")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}\u2013{self.end_time:%H:%M}"

    def clean(self):
        super().clean()
        errors: dict = {}
        _same_organisation(self, "location", errors)
        _check_practitioner(self, errors)
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            errors["end_time"] = "The end must be after the start."
        elif self.practitioner_id and self.weekday is not None and self.start_time and self.end_time:
            overlapping = (
                WorkingHours.objects.filter(
                    practitioner_id=self.practitioner_id,
                    weekday=self.weekday,
                    start_time__lt=self.end_time,
                    end_time__gt=self.start_time,
                )
                .exclude(pk=self.pk)
                .first()
            )
            if overlapping is not None:
                errors["start_time"] = f"These hours overlap the practitioner's hours {overlapping}."
        if errors:
            raise ValidationError(errors)


class TimeOff(TenantModel):
    """A one-off range when a practitioner is not bookable (leave, training, a break)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="time_off",
        limit_choices_to=ACTIVE_PRACTITIONER,
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True, help_text="Short and non-clinical, e.g. 'Annual leave'.")

    class Meta:
        verbose_name_plural = "time off"
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="time_off_end_after_start"),
        ]
        indexes = [models.Index(fields=["practitioner", "start"], name="time_off_practitioner_idx")]

    def __str__(self) -> str:
        start, end = timezone.localtime(self.start), timezone.localtime(self.end)
        return f"{self.reason or 'Time off'} {start:%d/%m/%Y %H:%M}\u2013{end:%d/%m/%Y %H:%M}"

    def clean(self):
        super().clean()
        errors: dict = {}
        _check_practitioner(self, errors)
        if self.start and self.end and self.end <= self.start:
            errors["end"] = "The end must be after the start."
        if errors:
            raise ValidationError(errors)


class AppointmentSeries(TenantModel):
    """A recurring booking: the RFC 5545 RRULE its appointments were planned from.

    The occurrences are ordinary appointments pointing here; each can be moved or cancelled
    on its own, or with all the following ones (`diary.services.series_*`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rrule = models.CharField("recurrence rule", max_length=200, help_text="RFC 5545 RRULE, e.g. FREQ=WEEKLY;COUNT=6.")
    dtstart = models.DateTimeField("first occurrence")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "appointment series"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Series {self.rrule}"


class Appointment(TenantModel):
    """A patient booked with a practitioner for a service at a location, from `start` to `end`.

    Invariants: `end > start` (check constraint); a practitioner, and a room, is in at most one
    live appointment at any instant (the services' checks, and exclusion constraints on
    PostgreSQL, which decide races); status moves only along `diary.choices.STATUS_FLOW`; `version` goes up by one
    with every change, and a change based on an older version is refused.
    """

    # organisation, patient, practitioner and room lead composite indexes (Meta.indexes), so
    # they have no single-column index of their own: every booking writes each index.
    organisation = organisation_indexed_elsewhere()
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="appointments",
        limit_choices_to=ACTIVE_PRACTITIONER,
        db_index=False,
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments", db_index=False
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    notes = models.CharField(
        "booking notes", max_length=500, blank=True, help_text="Short and non-clinical, e.g. 'Needs ground floor'."
    )
    cancellation_reason = models.CharField(max_length=200, blank=True)
    series = models.ForeignKey(
        AppointmentSeries, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="appointment_end_after_start"),
            models.CheckConstraint(
                condition=models.Q(status__in=AppointmentStatus.values), name="appointment_status_known"
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="appointment_version_positive"),
            models.CheckConstraint(
                condition=models.Q(status=AppointmentStatus.CANCELLED) | models.Q(cancellation_reason=""),
                name="appointment_cancellation_reason_only_if_cancelled",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "start"], name="appointment_org_start_idx"),
            models.Index(fields=["practitioner", "start"], name="appointment_practitioner_idx"),
            models.Index(fields=["patient", "start"], name="appointment_patient_idx"),
            models.Index(fields=["room", "start"], name="appointment_room_idx"),
        ]

    def __str__(self) -> str:
        # No patient name: this string reaches logs and admin breadcrumbs.
        if not self.start:
            return "Appointment"
        return f"Appointment {timezone.localtime(self.start):%d/%m/%Y %H:%M} ({self.get_status_display()})"

    @property
    def is_live(self) -> bool:
        return self.status != AppointmentStatus.CANCELLED

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def clean(self):
        super().clean()
        errors: dict = {}
        for field in ("service", "location", "room", "series"):
            _same_organisation(self, field, errors)
        if self.patient_id and self.patient.organisation_id != self.organisation_id:
            errors["patient"] = "Choose one of this organisation's own patients."
        _check_practitioner(self, errors)
        if self.room_id and self.location_id and self.room.location_id != self.location_id:
            errors["room"] = "The room is at another location."
        for field in ("start", "end"):
            value = getattr(self, field)
            if value is not None and timezone.is_naive(value):
                errors[field] = "Give the time with its time zone."
        if "start" not in errors and "end" not in errors and self.start and self.end and self.end <= self.start:
            errors["end"] = "The end must be after the start."
        if errors:
            raise ValidationError(errors)


class AppointmentChange(TenantModel):
    """One change to an appointment, written in the same transaction as the change itself.

    The integrations outbox (Google Calendar, Zoom) reads these in `id` order, which is why the
    key is a sequence rather than a UUID. Content-free on purpose: ids, times and statuses only,
    never names or notes. `changes` maps each changed field to {"from": ..., "to": ...}, and
    always carries `previous` (practitioner, start, end before the change) except for creation.
    """

    # Both lead composite indexes (the per-version constraint, appointment_change_org_idx).
    organisation = organisation_indexed_elsewhere()
    id = models.BigAutoField(primary_key=True)
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="changes", db_index=False)
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    changes = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(help_text="The appointment's version after this change.")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "version"], name="appointment_change_once_per_version"),
        ]
        indexes = [models.Index(fields=["organisation", "id"], name="appointment_change_org_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (v{self.version})"
