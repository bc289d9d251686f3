"""Property: whatever sequence of bookings, moves and cancellations people try, no practitioner
and no room is ever in two overlapping live appointments (checked in the database)."""

import datetime
import itertools

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exceptions import DomainError
from diary import services
from diary.choices import AppointmentStatus
from diary.models import Appointment
from tests.diary.factories import PractitionerFactory, RoomFactory
from tests.patients.factories import PatientFactory

ORIGIN = datetime.datetime(2030, 1, 7, 8, 0, tzinfo=datetime.UTC)
SLOT = datetime.timedelta(minutes=15)

practitioner_index = st.integers(0, 2)
room_index = st.one_of(st.none(), st.integers(0, 1))
start_slot = st.integers(0, 24)
length = st.integers(1, 6)
pick = st.integers(0, 50)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("book"), practitioner_index, room_index, start_slot, length),
        st.tuples(st.just("move"), pick, practitioner_index, room_index, start_slot, length),
        st.tuples(st.just("cancel"), pick),
    ),
    max_size=30,
)


def overlapping_pairs() -> list:
    live = list(
        Appointment.objects.exclude(status=AppointmentStatus.CANCELLED).values(
            "pk", "practitioner_id", "room_id", "start", "end"
        )
    )
    clashes = []
    for a, b in itertools.combinations(live, 2):
        overlap = a["start"] < b["end"] and b["start"] < a["end"]
        shared = a["practitioner_id"] == b["practitioner_id"] or (a["room_id"] and a["room_id"] == b["room_id"])
        if overlap and shared:
            clashes.append((a, b))
    return clashes


@pytest.fixture
def cast(clinic, clinic_location, adam_admin):
    return {
        "actor": adam_admin,
        "practitioners": [PractitionerFactory(organisation=clinic) for _ in range(3)],
        "rooms": [RoomFactory(location=clinic_location) for _ in range(2)],
        "patients": [PatientFactory(organisation=clinic) for _ in range(4)],
        "location": clinic_location,
    }


def apply(cast, follow_up, steps) -> None:
    actor = cast["actor"]
    booked: list[Appointment] = []
    for step in steps:
        try:
            if step[0] == "book":
                _, p, r, s, n = step
                booked.append(
                    services.appointment_book(
                        actor=actor,
                        patient=cast["patients"][len(booked) % 4],
                        practitioner=cast["practitioners"][p],
                        service=follow_up,
                        location=cast["location"],
                        room=None if r is None else cast["rooms"][r],
                        start=ORIGIN + s * SLOT,
                        end=ORIGIN + (s + n) * SLOT,
                        allow_patient_overlap=True,
                        override_hours=True,  # Adam is an admin: only the clash rules are in play
                    )
                )
            elif booked and step[0] == "move":
                _, i, p, r, s, n = step
                target = Appointment.objects.get(pk=booked[i % len(booked)].pk)
                services.appointment_reschedule(
                    actor=actor,
                    appointment=target,
                    version=target.version,
                    practitioner=cast["practitioners"][p],
                    room=None if r is None else cast["rooms"][r],
                    start=ORIGIN + s * SLOT,
                    end=ORIGIN + (s + n) * SLOT,
                    allow_patient_overlap=True,
                    override_hours=True,
                )
            elif booked and step[0] == "cancel":
                services.appointment_cancel(actor=actor, appointment=booked[step[1] % len(booked)])
        except DomainError:
            pass  # refused, as it should be when it would clash
        assert overlapping_pairs() == [], f"after {step}"


HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@HYPOTHESIS
@given(steps=operations)
def test_the_services_never_double_book(cast, follow_up, steps):
    with transaction.atomic():
        apply(cast, follow_up, steps)
        transaction.set_rollback(True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints are PostgreSQL's")
@HYPOTHESIS
@given(steps=operations)
def test_the_database_alone_never_double_books(cast, follow_up, steps, monkeypatch):
    """With the services' own clash check switched off, the exclusion constraints still hold."""
    monkeypatch.setattr(services, "_clash_problems", lambda appointment, **kwargs: [])
    with transaction.atomic():
        apply(cast, follow_up, steps)
        transaction.set_rollback(True)
