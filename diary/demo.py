"""Demo diary for `seed_demo`: services, rooms, Monday to Friday 09:00-17:00 hours, and two weeks of
appointments (this week and next) booked through `diary.services`. Idempotent: the plan is
the same on every run in a week, and a slot already taken is left alone.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from core.choices import Role
from core.exceptions import DomainError
from core.models import Location, Organisation, Staff
from diary import services
from diary.choices import AppointmentStatus, Weekday
from diary.models import Appointment, Room, Service, WorkingHours
from diary.selectors import local_instant
from patients.models import Patient

DEMO_SERVICES = [
    # name, minutes, price, colour, telehealth, weight when planning the diary
    ("Initial assessment", 60, Decimal("65.00"), "#C62828", False, 2),
    ("Follow-up", 30, Decimal("45.00"), "#2E7D32", False, 5),
    ("Telehealth follow-up", 30, Decimal("40.00"), "#6A1B9A", True, 2),
]
DEMO_ROOMS = ["Room 1", "Room 2"]
OPENS, CLOSES = time(9), time(17)
LUNCH = (time(12, 30), time(13, 30))
WEEKDAYS = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY]


def _services(organisation: Organisation) -> list[tuple[Service, int]]:
    existing = {service.name: service for service in Service.objects.for_organisation(organisation)}
    chosen = []
    for name, minutes, price, colour, telehealth, weight in DEMO_SERVICES:
        service = existing.get(name) or services.service_create(
            organisation=organisation,
            name=name,
            duration_minutes=minutes,
            price=price,
            colour=colour,
            is_telehealth=telehealth,
        )
        chosen.append((service, weight))
    return chosen


def _rooms(location: Location) -> list[Room]:
    existing = {room.name: room for room in Room.objects.filter(location=location)}
    return [existing.get(name) or services.room_create(location=location, name=name) for name in DEMO_ROOMS]


def _plan(rng: random.Random, monday, service_weights):
    """(day, start time, service) for one practitioner's fortnight: mostly full, some gaps."""
    population = [service for service, _ in service_weights]
    weights = [weight for _, weight in service_weights]
    for offset in range(14):
        day = monday + timedelta(days=offset)
        if day.weekday() not in WEEKDAYS:
            continue
        minutes = OPENS.hour * 60
        while minutes < CLOSES.hour * 60:
            service = rng.choices(population, weights)[0]
            book = rng.random() < 0.72
            start = time(minutes // 60, minutes % 60)
            end_minutes = minutes + service.duration_minutes
            in_lunch = start < LUNCH[1] and time(end_minutes // 60, end_minutes % 60) > LUNCH[0]
            if end_minutes > CLOSES.hour * 60 or in_lunch:
                minutes += 30
                continue
            if book:
                yield day, start, service
                minutes = end_minutes
            else:
                minutes += 30


def seed(organisation: Organisation) -> None:
    location = Location.objects.for_organisation(organisation).order_by("name").first()
    actor = Staff.objects.filter(organisation=organisation, role=Role.ADMIN, is_active=True).order_by("email").first()
    practitioners = list(Staff.objects.for_organisation(organisation).practitioners().order_by("email"))
    if location is None or actor is None or not practitioners:
        return
    service_weights = _services(organisation)
    rooms = _rooms(location)
    for practitioner in practitioners:
        if not WorkingHours.objects.filter(practitioner=practitioner).exists():
            services.working_hours_set(
                practitioner=practitioner,
                hours=[
                    {"weekday": day, "start_time": OPENS, "end_time": CLOSES, "location": location} for day in WEEKDAYS
                ],
            )
    patients = list(Patient.objects.for_organisation(organisation).filter(archived=False).order_by("pk"))
    if not patients:
        return
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    for index, practitioner in enumerate(practitioners):
        # Deterministic on purpose (the same plan on every run this week), not for security.
        rng = random.Random(f"{organisation.slug}:{practitioner.email}:{monday.isoformat()}")  # noqa: S311
        room = rooms[index % len(rooms)]
        taken = set(
            Appointment.objects.filter(
                practitioner=practitioner,
                start__gte=local_instant(monday, time(0)),
                start__lt=local_instant(monday + timedelta(days=14), time(0)),
            ).values_list("start", flat=True)
        )
        for day, start_time, service in _plan(rng, monday, service_weights):
            patient = rng.choice(patients)
            start = local_instant(day, start_time)
            if start is None or start in taken:
                continue
            try:
                services.appointment_book(
                    actor=actor,
                    patient=patient,
                    practitioner=practitioner,
                    service=service,
                    location=location,
                    room=None if service.is_telehealth else room,
                    start=start,
                )
            except DomainError:
                continue  # e.g. the patient is already booked with someone else then
    _settle_the_past(organisation, actor, monday)


def _settle_the_past(organisation: Organisation, actor: Staff, monday) -> None:
    """Appointments already over are completed, roughly one in twelve a did-not-attend."""
    now = timezone.now()
    past = Appointment.objects.filter(
        organisation=organisation,
        status=AppointmentStatus.BOOKED,
        start__gte=timezone.make_aware(datetime.combine(monday, time(0))),
        end__lte=now,
    )
    for appointment in past:
        if appointment.pk.int % 12 == 0:
            services.appointment_set_status(
                actor=actor, appointment=appointment, status=AppointmentStatus.DID_NOT_ATTEND
            )
        else:
            services.appointment_set_status(actor=actor, appointment=appointment, status=AppointmentStatus.ARRIVED)
            services.appointment_set_status(actor=actor, appointment=appointment, status=AppointmentStatus.COMPLETED)
